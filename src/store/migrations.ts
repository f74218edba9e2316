/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; PRAGMA
 * user_version records how far a database has come. Never edit a shipped entry: append.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: records, cursors, enrichment, rejects, Slack outbox and alerts
  `
  CREATE TABLE records (
    event_id       TEXT PRIMARY KEY,
    event_time     INTEGER NOT NULL,
    event_name     TEXT NOT NULL,
    region         TEXT NOT NULL,
    session_id     TEXT,
    calculation_id TEXT,
    notebook_id    TEXT,
    workgroup      TEXT,
    principal      TEXT NOT NULL,
    principal_arn  TEXT,
    error_code     TEXT,
    read_only      INTEGER NOT NULL,
    source_ip      TEXT,
    access_key_id  TEXT,
    detail         TEXT,
    ingested_at    INTEGER NOT NULL
  );
  CREATE INDEX records_by_session ON records (session_id, event_time) WHERE session_id IS NOT NULL;
  CREATE INDEX records_by_time ON records (event_time);
  -- Two small indexes rather than one over every status poll: calls that name only a
  -- calculation, and the StartCalculationExecution that ties a calculation to its session.
  CREATE INDEX records_calculation_only ON records (calculation_id) WHERE calculation_id IS NOT NULL AND session_id IS NULL;
  CREATE INDEX records_calculation_starts ON records (calculation_id) WHERE event_name = 'StartCalculationExecution' AND session_id IS NOT NULL;
  CREATE INDEX records_session_starts ON records (event_time) WHERE event_name = 'StartSession' AND error_code IS NULL;
  CREATE INDEX records_notebook_names ON records (notebook_id, event_time) WHERE event_name IN ('ImportNotebook', 'CreateNotebook') AND error_code IS NULL;

  CREATE TABLE poll_cursors (
    region          TEXT PRIMARY KEY,
    cursor_ms       INTEGER NOT NULL,
    strategy        TEXT NOT NULL DEFAULT 'event-source',
    strategy_cycles INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
  );

  CREATE TABLE enrichment (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    region     TEXT NOT NULL,
    status     TEXT NOT NULL,
    terminal   INTEGER NOT NULL,
    payload    TEXT,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
  );

  CREATE TABLE rejected_records (
    hash       TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    source     TEXT NOT NULL,
    sample     TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
  );

  CREATE TABLE slack_posts (
    key             TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    parent_key      TEXT,
    thread_ts       TEXT,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    ts              TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    maybe_sent      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    posted_at       INTEGER
  );
  CREATE INDEX slack_posts_pending ON slack_posts (channel, status) WHERE status = 'pending';

  CREATE TABLE alerts (
    calculation_id TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    post_key       TEXT NOT NULL,
    confirmed      INTEGER NOT NULL,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    closed_at      INTEGER
  );
  CREATE INDEX alerts_open ON alerts (status) WHERE status = 'open';

  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('created_at', CAST(strftime('%s','now') AS INTEGER) * 1000);
  `,
  // 2: the account each record was made in (many accounts; answers name their account)
  `
  ALTER TABLE records ADD COLUMN account TEXT;
  `,
  // 3: S3 objects read completely by \`ingest s3://…\` (a second run skips them)
  `
  CREATE TABLE ingested_objects (
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    etag        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
  ) WITHOUT ROWID;
  `,
];
