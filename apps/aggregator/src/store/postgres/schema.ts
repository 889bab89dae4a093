// The PostgreSQL store's tables: SQLite's (sqlite/schema.ts) at version 8, in PostgreSQL types, and the
// migrations since.
import { featuresMigration, SCHEMA_VERSION } from '../sqlite/schema.ts'

/**
 * The schema version these tables are: the same number as the SQLite store's, so `meta.schema_version` means
 * the same tables on both. A PostgreSQL store was first written at version 8 (POSTGRES_SCHEMA_SQL); every
 * later change of the tables bumps SCHEMA_VERSION and adds its migration to POSTGRES_MIGRATIONS too (a test
 * fails until the two agree).
 */
export const POSTGRES_SCHEMA_VERSION = 9

/** The first schema version a PostgreSQL store was written at: an older number in one is not ours. */
export const POSTGRES_FIRST_VERSION = 8

/** Whether the two backends' table versions agree (checked by a test, so that a bump cannot forget this file). */
export const schemaInStep = (): boolean => POSTGRES_SCHEMA_VERSION === SCHEMA_VERSION

/**
 * `POSTGRES_MIGRATIONS[v]` turns a store of schema version v into one of version v + 1, as MIGRATIONS does on
 * SQLite. A fresh store runs POSTGRES_SCHEMA_SQL (version 8) and then every migration, so both paths end in
 * the same tables.
 */
export const POSTGRES_MIGRATIONS: Readonly<Record<number, string>> = {
  8: featuresMigration({ integer: 'BIGINT', blob: 'BYTEA' }),
}

// Differences from SQLite, each keeping what the aggregator reads back identical:
// - every INTEGER is BIGINT (SQLite's are 64-bit); the pool parses BIGINT to a bigint, which rows.ts `int`
//   accepts while it is a safe integer;
// - REAL is DOUBLE PRECISION, BLOB is BYTEA, flags are BOOLEAN instead of 0/1;
// - `updates.seq` and `pending_items.seq` are identity columns: the acceptance and queue order that SQLite
//   keeps in its rowid;
// - times stay ISO-8601 TEXT, compared as text exactly as on SQLite.
/** The tables of schema version 8, the first a PostgreSQL store was written at. */
export const POSTGRES_SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE items (
  row     BIGINT PRIMARY KEY,
  item_id TEXT NOT NULL UNIQUE
);

CREATE TABLE model (
  version        BIGINT PRIMARY KEY,
  round          BIGINT NOT NULL,
  num_items      BIGINT NOT NULL,
  dim            BIGINT NOT NULL,
  item_embedding BYTEA NOT NULL,
  item_bias      BYTEA NOT NULL,
  created_at     TEXT NOT NULL,
  checksum       TEXT
);

CREATE TABLE optimizer_state (
  tensor TEXT NOT NULL,
  slot   TEXT NOT NULL CHECK (slot IN ('m', 'v')),
  data   BYTEA NOT NULL,
  PRIMARY KEY (tensor, slot)
);

CREATE TABLE rounds (
  round               BIGINT PRIMARY KEY,
  model_version       BIGINT NOT NULL,
  opened_at           TEXT NOT NULL,
  deadline            TEXT NOT NULL,
  closed_at           TEXT,
  closed_by           TEXT CHECK (closed_by IN ('quorum', 'deadline')),
  participants        BIGINT,
  samples             BIGINT,
  update_norm         DOUBLE PRECISION,
  client_norm_mean    DOUBLE PRECISION,
  client_norm_max     DOUBLE PRECISION,
  clipped             BIGINT,
  resets              BIGINT NOT NULL DEFAULT 0,
  discarded           BIGINT NOT NULL DEFAULT 0,
  dp_noise_multiplier DOUBLE PRECISION,
  dp_sample_rate      DOUBLE PRECISION,
  dp_clip_norm        DOUBLE PRECISION
);
-- At most one open round, enforced here: two replicas cannot both open one.
CREATE UNIQUE INDEX rounds_one_open ON rounds ((true)) WHERE closed_at IS NULL;

CREATE TABLE updates (
  idempotency_key TEXT PRIMARY KEY,
  seq             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  client_hash     TEXT NOT NULL,
  round           BIGINT NOT NULL REFERENCES rounds (round),
  sample_count    BIGINT NOT NULL,
  payload         BYTEA,
  ack             TEXT NOT NULL,
  received_at     TEXT NOT NULL,
  norm            DOUBLE PRECISION NOT NULL DEFAULT 0,
  clipped         BOOLEAN NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX updates_round_client ON updates (round, client_hash);

CREATE TABLE discarded_updates (
  idempotency_key TEXT PRIMARY KEY,
  client_hash     TEXT NOT NULL,
  round           BIGINT NOT NULL REFERENCES rounds (round),
  discarded_at    TEXT NOT NULL
);

CREATE TABLE pending_items (
  seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id   TEXT NOT NULL UNIQUE,
  queued_at TEXT NOT NULL
);

CREATE TABLE rejections (
  code  TEXT PRIMARY KEY,
  count BIGINT NOT NULL
);

CREATE TABLE evaluations (
  model_version BIGINT PRIMARY KEY,
  users         BIGINT NOT NULL,
  hits10        DOUBLE PRECISION NOT NULL,
  ndcg10        DOUBLE PRECISION NOT NULL
);

CREATE TABLE evaluation_reports (
  idempotency_key TEXT PRIMARY KEY,
  model_version   BIGINT NOT NULL,
  received_at     TEXT NOT NULL,
  client_hash     TEXT
);
CREATE INDEX evaluation_reports_version ON evaluation_reports (model_version);
CREATE UNIQUE INDEX evaluation_reports_client ON evaluation_reports (model_version, client_hash);

CREATE TABLE secagg_cohorts (
  cohort         BIGINT PRIMARY KEY,
  round          BIGINT NOT NULL REFERENCES rounds (round),
  session_id     TEXT NOT NULL UNIQUE,
  phase          TEXT NOT NULL CHECK (phase IN ('advertise', 'share', 'mask', 'unmask', 'done', 'aborted')),
  phase_deadline TEXT NOT NULL,
  opened_at      TEXT NOT NULL,
  closed_at      TEXT,
  abort_reason   TEXT,
  survivors      BIGINT
);

CREATE TABLE secagg_members (
  cohort       BIGINT NOT NULL REFERENCES secagg_cohorts (cohort),
  id           BIGINT NOT NULL,
  client_hash  TEXT NOT NULL,
  token_hash   TEXT NOT NULL,
  c_public_key TEXT NOT NULL,
  s_public_key TEXT NOT NULL,
  shared       BOOLEAN NOT NULL DEFAULT false,
  masked       BYTEA,
  uploaded     BOOLEAN NOT NULL DEFAULT false,
  unmasked     BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (cohort, id),
  UNIQUE (cohort, client_hash),
  UNIQUE (cohort, token_hash)
);

CREATE TABLE secagg_messages (
  cohort  BIGINT NOT NULL REFERENCES secagg_cohorts (cohort),
  id      BIGINT NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('shares', 'unmask')),
  body    TEXT NOT NULL,
  PRIMARY KEY (cohort, id, kind)
);

CREATE TABLE model_changes (
  version    BIGINT PRIMARY KEY,
  base_items BIGINT NOT NULL,
  rows       BYTEA NOT NULL
);
`
