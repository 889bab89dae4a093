// The SQLite store's tables and the migrations that bring an older store up to them.

/** What `meta.format` holds in every aggregator store; anything else is not ours. */
export const STORE_FORMAT = 'fedrec-aggregator'

/**
 * Bumped on every change of the tables below. A store of an older version is migrated at start by
 * MIGRATIONS (in one transaction); a store of a newer version is refused.
 */
export const SCHEMA_VERSION = 9

// STRICT tables: SQLite otherwise stores whatever it is given, and a float blob read back as text would
// only show up as a wrong model much later.
export const SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- The model's catalogue: row i of every item tensor is items.item_id where row = i.
CREATE TABLE items (
  row     INTEGER PRIMARY KEY,
  item_id TEXT NOT NULL UNIQUE
) STRICT;

-- The current global model only; older versions are replaced in the round-closing transaction.
CREATE TABLE model (
  version        INTEGER PRIMARY KEY,
  round          INTEGER NOT NULL,
  num_items      INTEGER NOT NULL,
  dim            INTEGER NOT NULL,
  item_embedding BLOB NOT NULL,  -- float32 little-endian, num_items × dim
  item_bias      BLOB NOT NULL,  -- float32 little-endian, num_items
  created_at     TEXT NOT NULL
) STRICT;

-- Server optimizer moments (FedAvgM/FedAdam/FedYogi/FedAdagrad), one row per tensor and slot.
CREATE TABLE optimizer_state (
  tensor TEXT NOT NULL,
  slot   TEXT NOT NULL CHECK (slot IN ('m', 'v')),
  data   BLOB NOT NULL,
  PRIMARY KEY (tensor, slot)
) STRICT;

CREATE TABLE rounds (
  round         INTEGER PRIMARY KEY,
  model_version INTEGER NOT NULL,
  opened_at     TEXT NOT NULL,
  deadline      TEXT NOT NULL,
  closed_at     TEXT,
  closed_by     TEXT CHECK (closed_by IN ('quorum', 'deadline')),
  participants  INTEGER,
  samples       INTEGER,
  update_norm   REAL
) STRICT;

-- One row per accepted update. The payload is dropped when its round closes; the row stays so a late
-- retry of the same idempotency key still gets its original ack. Client ids are stored only as salted hashes.
CREATE TABLE updates (
  idempotency_key TEXT PRIMARY KEY,
  client_hash     TEXT NOT NULL,
  round           INTEGER NOT NULL REFERENCES rounds (round),
  sample_count    INTEGER NOT NULL,
  payload         BLOB,
  ack             TEXT NOT NULL,
  received_at     TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX updates_round_client ON updates (round, client_hash);

-- Item ids queued by the operator; they join the model when the current round closes.
CREATE TABLE pending_items (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  item_id   TEXT NOT NULL UNIQUE,
  queued_at TEXT NOT NULL
) STRICT;
`

/**
 * Version 9, item features (feature-columns.ts): the model's feature table and each item's feature rows, all
 * NULL for an id-only model; and the feature strings of queued items (a JSON array, NULL: none). The same
 * statements migrate a PostgreSQL store (its types differ: postgres/schema.ts).
 */
export const featuresMigration = (types: { integer: string; blob: string }): string => `
-- Item features: the shared table FEATURE_EMBEDDING [F × dim] and FEATURE_BIAS [F], and the rows each item's
-- features hash to (uint32 little-endian: offsets, one per item plus one, into rows). All NULL: id-only.
ALTER TABLE model ADD COLUMN num_features ${types.integer};
ALTER TABLE model ADD COLUMN feature_embedding ${types.blob};
ALTER TABLE model ADD COLUMN feature_bias ${types.blob};
ALTER TABLE model ADD COLUMN item_feature_offsets ${types.blob};
ALTER TABLE model ADD COLUMN item_feature_rows ${types.blob};
-- The feature strings of a queued item, a JSON array; hashed to rows when it joins the model.
ALTER TABLE pending_items ADD COLUMN features TEXT;
-- The rows of the feature table a version changed (uint32 little-endian, ascending); NULL: id-only model.
ALTER TABLE model_changes ADD COLUMN feature_rows ${types.blob};
`

const FEATURES_MIGRATION = featuresMigration({ integer: 'INTEGER', blob: 'BLOB' })

/**
 * `MIGRATIONS[v]` turns a store of schema version v into one of version v + 1. A fresh store runs
 * SCHEMA_SQL (version 1) and then every migration, so both paths end in the same tables.
 */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
-- Per round: the L2 norms of the accepted client updates (after clipping) and how many were clipped.
ALTER TABLE rounds ADD COLUMN client_norm_mean REAL;
ALTER TABLE rounds ADD COLUMN client_norm_max REAL;
ALTER TABLE rounds ADD COLUMN clipped INTEGER;
ALTER TABLE updates ADD COLUMN norm REAL NOT NULL DEFAULT 0;
ALTER TABLE updates ADD COLUMN clipped INTEGER NOT NULL DEFAULT 0;

-- Refused updates since the store was created, by error code.
CREATE TABLE rejections (
  code  TEXT PRIMARY KEY,
  count INTEGER NOT NULL
) STRICT;

-- Federated evaluation: the sums clients reported, per model version.
CREATE TABLE evaluations (
  model_version INTEGER PRIMARY KEY,
  users         INTEGER NOT NULL,
  hits10        REAL NOT NULL,
  ndcg10        REAL NOT NULL
) STRICT;

-- Idempotency keys of the evaluation reports counted, kept while their model version is still accepted.
CREATE TABLE evaluation_reports (
  idempotency_key TEXT PRIMARY KEY,
  model_version   INTEGER NOT NULL,
  received_at     TEXT NOT NULL
) STRICT;
CREATE INDEX evaluation_reports_version ON evaluation_reports (model_version);
`,
  2: `
-- Operator resets of a round (POST /v1/round/reset): how often the round was reset and how many accepted
-- updates those resets discarded.
ALTER TABLE rounds ADD COLUMN resets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rounds ADD COLUMN discarded INTEGER NOT NULL DEFAULT 0;

-- The keys of updates a reset discarded (their rows and payloads are gone from updates). A retry of one of
-- them must hear that it no longer counts — not get its old ack, and not be accepted again by an automatic
-- retry. Pruned with the acks of their round.
CREATE TABLE discarded_updates (
  idempotency_key TEXT PRIMARY KEY,
  client_hash     TEXT NOT NULL,
  round           INTEGER NOT NULL REFERENCES rounds (round),
  discarded_at    TEXT NOT NULL
) STRICT;
`,
  3: `
-- Secure aggregation (apps/aggregator/src/secagg): one row per cohort attempt. A round closes through at
-- most one cohort ('done'); an aborted cohort is followed by a fresh one in the same round.
CREATE TABLE secagg_cohorts (
  cohort         INTEGER PRIMARY KEY,
  round          INTEGER NOT NULL REFERENCES rounds (round),
  session_id     TEXT NOT NULL UNIQUE,
  phase          TEXT NOT NULL CHECK (phase IN ('advertise', 'share', 'mask', 'unmask', 'done', 'aborted')),
  phase_deadline TEXT NOT NULL,
  opened_at      TEXT NOT NULL,
  closed_at      TEXT,
  abort_reason   TEXT,
  survivors      INTEGER
) STRICT;

-- Members in join order (id = their index in the cohort). Only a hash of the bearer token is kept; the
-- masked input is dropped when the cohort ends.
CREATE TABLE secagg_members (
  cohort       INTEGER NOT NULL REFERENCES secagg_cohorts (cohort),
  id           INTEGER NOT NULL,
  client_hash  TEXT NOT NULL,
  token_hash   TEXT NOT NULL,
  c_public_key TEXT NOT NULL,
  s_public_key TEXT NOT NULL,
  shared       INTEGER NOT NULL DEFAULT 0,
  masked       BLOB,
  uploaded     INTEGER NOT NULL DEFAULT 0,
  unmasked     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (cohort, id),
  UNIQUE (cohort, client_hash),
  UNIQUE (cohort, token_hash)
) STRICT;

-- Messages kept while their cohort runs, as the JSON the protocol relays (encrypted shares, unmask
-- shares); deleted when the cohort ends.
CREATE TABLE secagg_messages (
  cohort  INTEGER NOT NULL REFERENCES secagg_cohorts (cohort),
  id      INTEGER NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('shares', 'unmask')),
  body    TEXT NOT NULL,
  PRIMARY KEY (cohort, id, kind)
) STRICT;
`,
  4: `
-- The rows each published model version changed, for model patches (GET /v1/model?since=): written in the
-- round-closing transaction with the model, kept for the last --model-log versions.
CREATE TABLE model_changes (
  version    INTEGER PRIMARY KEY, -- the version published; its rows changed from version - 1
  base_items INTEGER NOT NULL,    -- the items of version - 1 (rows from here on are new items)
  rows       BLOB NOT NULL        -- uint32 little-endian row ids, ascending: changed values and new items
) STRICT;
`,
  5: `
-- DP-FedAvg: the noise multiplier σ, sampling rate q and clip norm S each round closed with (NULL: no DP).
-- The Rényi-DP accountant is recomputed from these at start, so ε survives a restart and rounds that
-- differed in σ or q (an operator's PATCH /v1/config) are composed as they really ran.
ALTER TABLE rounds ADD COLUMN dp_noise_multiplier REAL;
ALTER TABLE rounds ADD COLUMN dp_sample_rate REAL;
ALTER TABLE rounds ADD COLUMN dp_clip_norm REAL;
`,
  6: `
-- SHA-256 of the model as written (model-checksum.ts), checked at every start: damaged bytes are refused
-- instead of served. NULL in a store migrated from version 6: the first start checks the values are finite
-- and writes it.
ALTER TABLE model ADD COLUMN checksum TEXT;
`,
  7: `
-- Evaluation reports are bound to the client that sent them (its salted hash, as in updates): only a client
-- with an accepted update may report, once per model version. NULL in reports counted before version 8.
ALTER TABLE evaluation_reports ADD COLUMN client_hash TEXT;
CREATE UNIQUE INDEX evaluation_reports_client ON evaluation_reports (model_version, client_hash);
`,
  8: FEATURES_MIGRATION,
}
