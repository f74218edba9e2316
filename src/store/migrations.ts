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
  // 3: the sessions' history apart from routine reads and from calls that are not history.
  // `reads` holds successful read-only calls (status polls: most of a busy trail), summarised
  // per session and calculation in `read_stats` so a report's cost does not grow with polls;
  // `own_calls` holds the bot's own calls and those of ignored principals (SPEC §2), kept and
  // counted apart. A record lives in exactly one of the three tables, decided by its content
  // and the caller rules, so eventID stays the key that makes ingest idempotent.
  `
  ALTER TABLE records ADD COLUMN principal_type TEXT;

  CREATE TABLE reads (
    event_id TEXT PRIMARY KEY, event_time INTEGER NOT NULL, event_name TEXT NOT NULL, region TEXT NOT NULL,
    session_id TEXT, calculation_id TEXT, notebook_id TEXT, workgroup TEXT, principal TEXT NOT NULL,
    principal_arn TEXT, error_code TEXT, read_only INTEGER NOT NULL, source_ip TEXT, access_key_id TEXT,
    detail TEXT, account TEXT, principal_type TEXT, ingested_at INTEGER NOT NULL
  );
  CREATE TABLE read_stats (
    session_id     TEXT NOT NULL,
    calculation_id TEXT NOT NULL,
    n              INTEGER NOT NULL,
    first_at       INTEGER NOT NULL,
    last_at        INTEGER NOT NULL,
    PRIMARY KEY (session_id, calculation_id)
  ) WITHOUT ROWID;
  CREATE INDEX read_stats_by_calculation ON read_stats (calculation_id) WHERE calculation_id != '';
  CREATE INDEX read_stats_by_last ON read_stats (last_at) WHERE session_id != '';

  CREATE TABLE own_calls (
    event_id TEXT PRIMARY KEY, event_time INTEGER NOT NULL, event_name TEXT NOT NULL, region TEXT NOT NULL,
    session_id TEXT, calculation_id TEXT, notebook_id TEXT, workgroup TEXT, principal TEXT NOT NULL,
    principal_arn TEXT, error_code TEXT, read_only INTEGER NOT NULL, source_ip TEXT, access_key_id TEXT,
    detail TEXT, account TEXT, principal_type TEXT, ingested_at INTEGER NOT NULL,
    reason         TEXT NOT NULL
  );
  CREATE INDEX own_calls_by_time ON own_calls (event_time);

  INSERT INTO reads SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup,
      principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type, ingested_at
    FROM records WHERE read_only = 1 AND error_code IS NULL AND event_name != 'GetSessionEndpoint';
  DELETE FROM records WHERE read_only = 1 AND error_code IS NULL AND event_name != 'GetSessionEndpoint';
  INSERT INTO read_stats SELECT coalesce(session_id, ''), coalesce(calculation_id, ''), count(*), min(event_time), max(event_time)
    FROM reads GROUP BY 1, 2;

  -- Every stored CloudTrail record, wherever it lives (counts, audits, tests).
  CREATE VIEW all_records AS
    SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type, ingested_at, 'history' AS stored_as FROM records
    UNION ALL SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type, ingested_at, 'read' FROM reads
    UNION ALL SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type, ingested_at, reason FROM own_calls;
  `,
  // 4: the digest: headline figures of finished days remembered for the trend, and files
  // (the digest chart) in the outbox with the upload's progress
  `
  CREATE TABLE digest_days (
    timezone    TEXT NOT NULL,
    date        TEXT NOT NULL,
    params      TEXT NOT NULL,
    headline    TEXT NOT NULL,
    records     INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (timezone, date, params)
  );
  ALTER TABLE slack_posts ADD COLUMN file BLOB;
  ALTER TABLE slack_posts ADD COLUMN file_id TEXT;
  ALTER TABLE slack_posts ADD COLUMN upload_url TEXT;
  ALTER TABLE slack_posts ADD COLUMN attempted_at INTEGER;
  `,
  // 5: poll cursors per account and region (AWS_ROLE_ARNS: every account × region is polled on its
  // own). A single-account store's cursors become the default credentials' account's (''), so an
  // upgrade reads on from where it stopped instead of backfilling again.
  `
  CREATE TABLE poll_cursors_by_account (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    cursor_ms       INTEGER NOT NULL,
    strategy        TEXT NOT NULL DEFAULT 'event-source',
    strategy_cycles INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (account, region)
  ) WITHOUT ROWID;
  INSERT INTO poll_cursors_by_account (account, region, cursor_ms, strategy, strategy_cycles, updated_at)
    SELECT '', region, cursor_ms, strategy, strategy_cycles, updated_at FROM poll_cursors;
  DROP TABLE poll_cursors;
  ALTER TABLE poll_cursors_by_account RENAME TO poll_cursors;
  `,
  // 6: on call in Slack (issue 10). The live feed's items and the message that shows each;
  // edits waiting to be made to posted messages (one row per message: the newest content wins);
  // alert state (acknowledged, snoozed, reminders, still updated or settled); snoozed sessions;
  // and the audit of what people did with the alert buttons. Posts are found by their ts when a
  // button on them is pressed.
  `
  CREATE TABLE feed_items (
    key           TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    session_id    TEXT,
    region        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    post_key      TEXT NOT NULL,
    shown         TEXT,
    live          INTEGER NOT NULL,
    confirm_tries INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    settled_at    INTEGER
  );
  CREATE INDEX feed_items_live ON feed_items (created_at) WHERE live = 1;

  CREATE TABLE slack_updates (
    post_key        TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    sent_revision   INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL
  );
  CREATE INDEX slack_updates_pending ON slack_updates (channel) WHERE status = 'pending';

  CREATE TABLE alert_posts (
    post_key      TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    acked_by      TEXT,
    acked_at      INTEGER,
    snoozed_by    TEXT,
    snoozed_until INTEGER,
    reminders     INTEGER NOT NULL DEFAULT 0,
    reminded_at   INTEGER,
    shown         TEXT,
    live          INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
  );
  CREATE INDEX alert_posts_live ON alert_posts (created_at) WHERE live = 1;
  -- Alerts from before this version: static messages, kept as they are.
  INSERT INTO alert_posts (post_key, channel, live, created_at)
    SELECT a.post_key, coalesce(p.channel, ''), 0, min(a.created_at) FROM alerts a LEFT JOIN slack_posts p ON p.key = a.post_key GROUP BY a.post_key;

  CREATE TABLE session_snoozes (
    session_id TEXT PRIMARY KEY,
    until      INTEGER NOT NULL,
    by_user    TEXT NOT NULL,
    post_key   TEXT
  );

  CREATE TABLE slack_actions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    action         TEXT NOT NULL,
    target         TEXT NOT NULL,
    session_id     TEXT,
    calculation_id TEXT,
    region         TEXT,
    user_id        TEXT NOT NULL,
    post_key       TEXT,
    status         TEXT NOT NULL,
    outcome        TEXT,
    requested_at   INTEGER NOT NULL,
    finished_at    INTEGER
  );
  -- What may happen once: a second press while the first is under way or done is not a second action.
  CREATE UNIQUE INDEX slack_actions_once ON slack_actions (action, target)
    WHERE status IN ('started', 'done') AND action IN ('stop-calculation', 'terminate-session', 'acknowledge');
  CREATE INDEX slack_actions_by_post ON slack_actions (post_key, id);
  CREATE INDEX slack_actions_unfinished ON slack_actions (status) WHERE status = 'started';

  CREATE INDEX slack_posts_by_ts ON slack_posts (channel, ts) WHERE ts IS NOT NULL;
  `,
  // 7: S3 objects read completely by \`ingest s3://…\` (a second run skips them)
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
