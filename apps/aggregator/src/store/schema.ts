/** What `meta.format` holds in every aggregator store; anything else is not ours. */
export const STORE_FORMAT = 'fedrec-aggregator'

/** Bumped on every incompatible change of the tables below; a store of another version is refused. */
export const SCHEMA_VERSION = 1

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
