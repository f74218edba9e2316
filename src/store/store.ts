import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { callerClassifier, isRoutineRead, NO_CALLER_RULES, type CallerRules, type SetApartReason } from '../records/callers.js';
import type { EventDetail, NotebookEvent } from '../records/types.js';
import type { ReadSummary } from '../model/types.js';
import { AppError } from '../util/errors.js';
import { DAY } from '../util/clock.js';
import { MIGRATIONS } from './migrations.js';

export type PollStrategy = 'event-source' | 'event-names';

export interface PollCursor {
  /** The watched account ('' : the default credentials' account). */
  account: string;
  region: string;
  cursorMs: number;
  strategy: PollStrategy;
  /** Cycles left before the poller probes the other strategy again. */
  strategyCycles: number;
  updatedAt: number;
}

/**
 * Athena's answers: a session, a calculation, a session's calculation listing, a session's Spark
 * UI, a region's work groups, a region's list of active sessions.
 */
export type EnrichmentKind = 'session' | 'calculation' | 'listing' | 'dashboard' | 'workgroups' | 'active';
export type EnrichmentStatus = 'ok' | 'not-found' | 'denied' | 'error';

export interface EnrichmentRow {
  kind: EnrichmentKind;
  id: string;
  region: string;
  status: EnrichmentStatus;
  terminal: boolean;
  payload: unknown;
  fetchedAt: number;
}

export interface Rejection {
  reason: string;
  source: string;
  raw: string;
}

export interface SessionStart {
  sessionId: string;
  region: string;
  eventTime: number;
}

/** Bot principals remembered per account for recognising its calls (role sessions get new names over time). */
const MAX_BOT_PRINCIPALS_PER_ACCOUNT = 20;

/** Cursors of the default credentials' account (no AWS_ROLE_ARNS), as a single-account store keeps them. */
const DEFAULT_CURSOR_ACCOUNT = '';

/** The account in a principal ARN (`arn:aws:sts::<account>:…`). */
const accountOfArn = (arn: string) => /^arn:[^:]*:[^:]*::(\d{12}):/.exec(arn)?.[1] ?? '';

/** Thrown when the database cannot be opened or written (read-only disk, corrupt file). */
export class StoreError extends AppError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** The columns of `records`, `reads` and `own_calls` alike (own_calls adds `reason`). */
const RECORD_COLUMNS =
  'event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type';
const STORED_COLUMN_COUNT = 17;

/** A value of a record row: what SQLite binds. */
export type RecordValue = string | number | null;

/** Values per record row in a flat array: the columns of RECORD_COLUMNS, then the bot-agent flag. */
export const RECORD_VALUE_COUNT = 18;

// Positions in a row's values that routing reads.
const V_EVENT_NAME = 2;
const V_PRINCIPAL = 8;
const V_PRINCIPAL_ARN = 9;
const V_ERROR = 10;
const V_READ_ONLY = 11;
const V_BOT_AGENT = 17;

/** Values in one array of `insertRecordChunks` stay below this: a read is referred to as chunk × it + position. */
const READ_REF_CHUNK = 2 ** 24;

/** Routine reads written by one multi-row statement. */
const READS_PER_STATEMENT = 50;

/** A read's values for the `reads` insert, caller details (source IP, access key) left out: never shown for a read. */
function pushReadArgs(out: RecordValue[], v: readonly RecordValue[], i: number, now: number): void {
  out.push(v[i]!, v[i + 1]!, v[i + 2]!, v[i + 3]!, v[i + 4]!, v[i + 5]!, v[i + 6]!, v[i + 7]!, v[i + 8]!, v[i + 9]!, v[i + 10]!, v[i + 11]!, null, null, v[i + 14]!, v[i + 15]!, v[i + 16]!, now);
}

/** Where a record lives: the sessions' history, the routine reads, or set apart (the bot's own calls…). */
type Route = 'records' | 'reads' | SetApartReason;

/**
 * Appends one event's row values, in RECORD_COLUMNS order then the bot-agent flag, to a flat
 * array. Caller details have their own columns, so most rows (status polls) need no JSON.
 */
export function pushRecordValues(out: RecordValue[], e: NotebookEvent): void {
  const { sourceIp, accessKeyId, ...rest } = e.detail;
  let detail: string | null = null;
  for (const _ in rest) {
    detail = JSON.stringify(rest);
    break;
  }
  out.push(
    e.eventId,
    e.eventTime,
    e.eventName,
    e.region,
    e.sessionId,
    e.calculationId,
    e.notebookId,
    e.workgroup,
    e.principal,
    e.principalArn,
    e.errorCode,
    e.readOnly ? 1 : 0,
    sourceIp ?? null,
    accessKeyId ?? null,
    detail,
    e.account,
    e.principalType,
    e.botAgent ? 1 : 0,
  );
}

/** Adds `n` reads (the last at `last`) to a summary; `calc` is '' for reads naming no calculation. */
function addRead(summary: ReadSummary, calc: string, n: number, last: number): void {
  summary.count += n;
  if (!calc) return;
  const c = summary.calculations[calc];
  summary.calculations[calc] = c ? { count: c.count + n, lastAt: Math.max(c.lastAt, last) } : { count: n, lastAt: last };
}

/** Raw record rows as events, grouped by the value at `column` (a session or calculation id). */
function groupEvents(rows: readonly RecordValue[][], column: number): Map<string, NotebookEvent[]> {
  const out = new Map<string, NotebookEvent[]>();
  for (const row of rows) {
    const key = row[column] as string;
    const list = out.get(key);
    if (list) list.push(toEvent(row));
    else out.set(key, [toEvent(row)]);
  }
  return out;
}

/**
 * A stored record as an event, from a row read with `.raw()` (values in RECORD_COLUMNS order):
 * the digest reads tens of thousands of rows, and values without an object per row cost a
 * third less (measured). Caller details have their own columns, so most rows (status polls)
 * have no JSON to parse.
 */
function toEvent(v: readonly RecordValue[]): NotebookEvent {
  const detail: EventDetail = v[14] ? (JSON.parse(v[14] as string) as EventDetail) : {};
  if (v[12] !== null) detail.sourceIp = v[12] as string;
  if (v[13] !== null) detail.accessKeyId = v[13] as string;
  return {
    eventId: v[0] as string,
    eventTime: v[1] as number,
    eventName: v[2] as string,
    region: v[3] as string,
    account: v[15] as string | null,
    sessionId: v[4] as string | null,
    calculationId: v[5] as string | null,
    notebookId: v[6] as string | null,
    workgroup: v[7] as string | null,
    principal: v[8] as string,
    principalType: v[16] as string | null,
    principalArn: v[9] as string | null,
    errorCode: v[10] as string | null,
    readOnly: v[11] === 1,
    botAgent: false,
    detail,
  };
}


/**
 * The embedded store (SPEC §6): SQLite in WAL mode. All writes that must be atomic
 * together (a page of records and the cursor after it, an outbox intent) are one
 * transaction, so a crash at any instant leaves either the old or the new state.
 */
export class Store {
  readonly db: Database.Database;
  private readonly stmts;
  /**
   * Within `begin`…`commit`: the `reads` rowid after which rows are not yet counted into
   * `read_stats` (undefined: none yet). Null outside such a transaction: reads are counted as written.
   */
  private bulkReadsFrom: number | null | undefined = null;
  private rules: CallerRules = NO_CALLER_RULES;
  private classify = callerClassifier(NO_CALLER_RULES);

  private constructor(db: Database.Database) {
    this.db = db;
    const placeholders = Array(STORED_COLUMN_COUNT + 1).fill('?').join(', ');
    this.stmts = {
      insertRecord: db.prepare(`INSERT OR IGNORE INTO records (${RECORD_COLUMNS}, ingested_at) VALUES (${placeholders})`),
      insertRead: db.prepare(`INSERT OR IGNORE INTO reads (${RECORD_COLUMNS}, ingested_at) VALUES (${placeholders})`),
      insertReads: db.prepare(`INSERT OR IGNORE INTO reads (${RECORD_COLUMNS}, ingested_at) VALUES ${Array(READS_PER_STATEMENT).fill(`(${placeholders})`).join(', ')}`),
      lastReadRowid: db.prepare('SELECT max(rowid) AS r FROM reads'),
      countNewReads: db.prepare(
        `INSERT INTO read_stats (session_id, calculation_id, n, first_at, last_at)
         SELECT coalesce(session_id, ''), coalesce(calculation_id, ''), count(*), min(event_time), max(event_time) FROM reads WHERE rowid > ? GROUP BY 1, 2 ORDER BY 1, 2
         ON CONFLICT (session_id, calculation_id) DO UPDATE SET n = n + excluded.n, first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)`,
      ),
      insertOwn: db.prepare(`INSERT OR IGNORE INTO own_calls (${RECORD_COLUMNS}, ingested_at, reason) VALUES (${placeholders}, ?)`),
      readStatsOfSessions: db.prepare(`SELECT session_id, calculation_id, n, last_at FROM read_stats WHERE session_id IN (SELECT value FROM json_each(?))`),
      readStatsOfCalculations: db.prepare(`SELECT session_id, calculation_id, n, last_at FROM read_stats WHERE session_id = '' AND calculation_id IN (SELECT value FROM json_each(?))`),
      readSessionsBetween: db.prepare(`SELECT DISTINCT session_id FROM read_stats WHERE last_at >= ? AND first_at < ? AND session_id != ''`),
      readSessionExists: db.prepare(`SELECT 1 FROM read_stats WHERE session_id = ? LIMIT 1`),
      bySession: db.prepare(`SELECT ${RECORD_COLUMNS} FROM records WHERE session_id = ? ORDER BY event_time, event_id`).raw(),
      notableBetween: db.prepare(`SELECT ${RECORD_COLUMNS} FROM records WHERE event_time >= ? AND event_time < ?`).raw(),
      sessionsOutside: db
        .prepare(`SELECT ${RECORD_COLUMNS} FROM records WHERE session_id IN (SELECT value FROM json_each(?)) AND session_id IS NOT NULL AND (event_time < ? OR event_time >= ?)`)
        .raw(),
      calculationOnlyOutside: db
        .prepare(
          `SELECT ${RECORD_COLUMNS} FROM records WHERE calculation_id IN (SELECT value FROM json_each(?)) AND calculation_id IS NOT NULL AND session_id IS NULL AND (event_time < ? OR event_time >= ?)`,
        )
        .raw(),
      calcSession: db.prepare(
        `SELECT session_id FROM records WHERE calculation_id = ? AND event_name = 'StartCalculationExecution' AND session_id IS NOT NULL LIMIT 1`,
      ),
      byCalculation: db.prepare(`SELECT ${RECORD_COLUMNS} FROM records WHERE calculation_id = ? AND calculation_id IS NOT NULL AND session_id IS NULL`).raw(),
      sessionExists: db.prepare(`SELECT 1 FROM records WHERE session_id = ? LIMIT 1`),
      sessionAccount: db.prepare(`SELECT account FROM records WHERE session_id = ? AND account IS NOT NULL LIMIT 1`),
      notebookNames: db.prepare(
        `SELECT notebook_id, detail FROM records WHERE notebook_id = ? AND event_name IN ('ImportNotebook','CreateNotebook') AND error_code IS NULL ORDER BY event_time DESC LIMIT 1`,
      ),
      openSessions: db.prepare(
        `SELECT s.session_id AS sessionId, s.region AS region, s.event_time AS eventTime FROM records s
         WHERE s.event_name = 'StartSession' AND s.error_code IS NULL AND s.event_time >= ? AND s.session_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM records t WHERE t.session_id = s.session_id AND t.event_name = 'TerminateSession' AND t.error_code IS NULL)
           AND NOT EXISTS (SELECT 1 FROM enrichment e WHERE e.kind = 'session' AND e.id = s.session_id AND e.terminal = 1)
         ORDER BY s.event_time DESC`,
      ),
      getCursor: db.prepare(
        `SELECT account, region, cursor_ms AS cursorMs, strategy, strategy_cycles AS strategyCycles, updated_at AS updatedAt FROM poll_cursors WHERE account = ? AND region = ?`,
      ),
      putCursor: db.prepare(
        `INSERT INTO poll_cursors (account, region, cursor_ms, strategy, strategy_cycles, updated_at) VALUES (@account, @region, @cursorMs, @strategy, @strategyCycles, @updatedAt)
         ON CONFLICT(account, region) DO UPDATE SET cursor_ms = excluded.cursor_ms, strategy = excluded.strategy, strategy_cycles = excluded.strategy_cycles, updated_at = excluded.updated_at`,
      ),
      getEnrichment: db.prepare(`SELECT * FROM enrichment WHERE kind = ? AND id = ?`),
      putEnrichment: db.prepare(
        `INSERT INTO enrichment (kind, id, region, status, terminal, payload, fetched_at) VALUES (@kind, @id, @region, @status, @terminal, @payload, @fetchedAt)
         ON CONFLICT(kind, id) DO UPDATE SET region = excluded.region, status = excluded.status, terminal = excluded.terminal, payload = excluded.payload, fetched_at = excluded.fetched_at`,
      ),
      putRejection: db.prepare(
        `INSERT INTO rejected_records (hash, reason, source, sample, count, first_seen, last_seen) VALUES (@hash, @reason, @source, @sample, 1, @now, @now)`,
      ),
      bumpRejection: db.prepare(`UPDATE rejected_records SET count = count + 1, last_seen = ? WHERE hash = ?`),
      countRecords: db.prepare(`SELECT (SELECT count(*) FROM records) + (SELECT count(*) FROM reads) + (SELECT count(*) FROM own_calls) AS n`),
      setApartSummary: db.prepare(
        `SELECT reason, event_name AS eventName, error_code AS errorCode, count(*) AS count, max(event_time) AS lastAt FROM own_calls WHERE event_time >= ? AND event_time < ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      ),
    };
  }

  /** Opens (creating if needed, owner-only permissions) and migrates the database. */
  static open(file: string): Store {
    let db: Database.Database;
    try {
      if (file !== ':memory:') {
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
        // Create the file ourselves so it is owner-only from its first byte.
        fs.closeSync(fs.openSync(file, 'a', 0o600));
      }
      db = new Database(file);
    } catch (err) {
      throw new StoreError(`cannot open the database at ${file}: ${(err as Error).message}`);
    }
    try {
      // Larger pages for a new store (fewer splits and fewer pages per commit on bulk ingest);
      // an existing store keeps the page size it was created with.
      if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // 32 MiB of page cache (default 2 MiB): inserts into the random-UUID primary key and the
      // time/session indexes stop thrashing once the table holds millions of rows.
      db.pragma('cache_size = -32768');
      db.pragma('foreign_keys = ON');
      migrate(db);
      if (file !== ':memory:') {
        for (const suffix of ['', '-wal', '-shm']) {
          if (fs.existsSync(file + suffix)) fs.chmodSync(file + suffix, 0o600);
        }
      }
    } catch (err) {
      db.close();
      throw new StoreError(`cannot open the database at ${file}: ${(err as Error).message}`);
    }
    const store = new Store(db);
    store.loadCallerRules();
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Inserts events, ignoring ones already stored (same eventID). Returns how many were new. */
  insertEvents(events: readonly NotebookEvent[], now: number): number {
    return this.write(() => this.insertEventsUnsafe(events, now));
  }

  private insertEventsUnsafe(events: readonly NotebookEvent[], now: number): number {
    const values: RecordValue[] = [];
    for (const e of events) pushRecordValues(values, e);
    return this.insertRecordChunksUnsafe([values], now);
  }

  /**
   * Inserts rows given as one flat array of values (see `pushRecordValues`), ignoring ones
   * already stored. The bulk-ingest writer thread receives rows in this form: a flat array of
   * primitives crosses threads far more cheaply than objects. Returns how many were new.
   */
  insertRecordValues(values: readonly RecordValue[], now: number): number {
    return this.write(() => this.insertRecordChunksUnsafe([values], now));
  }

  /** `insertRecordValues` over several arrays of values, written as one batch. */
  insertRecordChunks(chunks: ReadonlyArray<readonly RecordValue[]>, now: number): number {
    return this.write(() => this.insertRecordChunksUnsafe(chunks, now));
  }

  private insertRecordChunksUnsafe(chunks: ReadonlyArray<readonly RecordValue[]>, now: number): number {
    const { insertRecord, insertOwn } = this.stmts;
    let inserted = 0;
    // Routine reads (most rows of a busy trail) are gathered and written together below, each
    // as chunk × READ_REF_CHUNK + position.
    const reads: number[] = [];
    for (let c = 0; c < chunks.length; c++) {
      const v = chunks[c]!;
      if (v.length % RECORD_VALUE_COUNT !== 0) throw new TypeError(`record values: ${v.length} is not a multiple of ${RECORD_VALUE_COUNT}`);
      if (v.length >= READ_REF_CHUNK) throw new RangeError(`record values: ${v.length} in one array (at most ${READ_REF_CHUNK - 1})`);
      // Positional parameters, in RECORD_COLUMNS order: binding is the hot loop of an ingest.
      for (let i = 0; i < v.length; i += RECORD_VALUE_COUNT) {
        const route = this.routeOf(v, i);
        if (route === 'reads') reads.push(c * READ_REF_CHUNK + i);
        else if (route === 'records') inserted += insertRecord.run(v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6], v[i + 7], v[i + 8], v[i + 9], v[i + 10], v[i + 11], v[i + 12], v[i + 13], v[i + 14], v[i + 15], v[i + 16], now).changes;
        else inserted += insertOwn.run(v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6], v[i + 7], v[i + 8], v[i + 9], v[i + 10], v[i + 11], v[i + 12], v[i + 13], v[i + 14], v[i + 15], v[i + 16], now, route).changes;
      }
    }
    if (reads.length) inserted += this.insertReads(chunks, reads, now);
    return inserted;
  }

  /**
   * Writes routine reads: in eventID order (neighbours in the key's B-tree, fewer pages touched),
   * many rows a statement, caller details left out (never shown for a read). The rows that were
   * new are the ones appended past the table's last rowid, and are counted into `read_stats` by
   * one statement: a duplicate (a re-read lookback page) is never counted twice.
   */
  private insertReads(chunks: ReadonlyArray<readonly RecordValue[]>, refs: number[], now: number): number {
    const key = (ref: number) => chunks[Math.floor(ref / READ_REF_CHUNK)]![ref % READ_REF_CHUNK] as string;
    const sorted = refs.map((ref) => ({ ref, id: key(ref) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const before = (this.stmts.lastReadRowid.get() as { r: number | null }).r ?? 0;
    const args: RecordValue[] = [];
    const push = (ref: number) => pushReadArgs(args, chunks[Math.floor(ref / READ_REF_CHUNK)]!, ref % READ_REF_CHUNK, now);
    let inserted = 0;
    let k = 0;
    for (; k + READS_PER_STATEMENT <= sorted.length; k += READS_PER_STATEMENT) {
      args.length = 0;
      for (let j = k; j < k + READS_PER_STATEMENT; j++) push(sorted[j]!.ref);
      inserted += this.stmts.insertReads.run(...args).changes;
    }
    for (; k < sorted.length; k++) {
      args.length = 0;
      push(sorted[k]!.ref);
      inserted += this.stmts.insertRead.run(...args).changes;
    }
    if (!inserted) return 0;
    // Inside a bulk transaction the new reads are counted once, at commit: one GROUP BY over
    // tens of thousands of rows instead of one per batch.
    if (this.bulkReadsFrom === null) this.stmts.countNewReads.run(before);
    else if (this.bulkReadsFrom === undefined) this.bulkReadsFrom = before;
    return inserted;
  }

  private routeOf(v: readonly RecordValue[], i: number): Route {
    const readOnly = v[i + V_READ_ONLY] === 1;
    const errorCode = v[i + V_ERROR] as string | null;
    // A successful change is history whoever made it: the common case needs no more checks.
    if (!readOnly && errorCode === null) return 'records';
    const fields = {
      principal: v[i + V_PRINCIPAL] as string,
      principalArn: v[i + V_PRINCIPAL_ARN] as string | null,
      readOnly,
      errorCode,
      botAgent: v[i + V_BOT_AGENT] === 1,
      eventName: v[i + V_EVENT_NAME] as string,
    };
    return this.classify(fields) ?? (isRoutineRead(fields) ? 'reads' : 'records');
  }

  /**
   * Keeps rejected items (deduplicated by content) so nothing is silently lost. Returns the
   * ones not seen before: a malformed record re-read by every cycle's lookback is reported once.
   */
  recordRejections<T extends Rejection>(rejections: readonly T[], now: number): T[] {
    if (rejections.length === 0) return [];
    return this.write(() =>
      rejections.filter((r) => {
        const hash = createHash('sha1').update(r.raw).digest('hex');
        if (this.stmts.bumpRejection.run(now, hash).changes > 0) return false;
        this.stmts.putRejection.run({ hash, reason: r.reason, source: r.source, sample: r.raw.length > 4096 ? r.raw.slice(0, 4096) + '…' : r.raw, now });
        return true;
      }),
    );
  }

  rejectionCount(): number {
    return (this.db.prepare('SELECT coalesce(sum(count), 0) AS n FROM rejected_records').get() as { n: number }).n;
  }

  /** Stores the last page of a cycle and moves the cursor in one transaction. No `account`: the default credentials'. */
  commitPoll(cursor: Omit<PollCursor, 'updatedAt' | 'account'> & { account?: string }, events: readonly NotebookEvent[], now: number): number {
    return this.write(() => {
      const inserted = this.insertEventsUnsafe(events, now);
      this.stmts.putCursor.run({ ...cursor, account: cursor.account ?? DEFAULT_CURSOR_ACCOUNT, updatedAt: now });
      return inserted;
    });
  }

  /** The poll cursor of an account (default: the default credentials') in a region. */
  getCursor(region: string, account = DEFAULT_CURSOR_ACCOUNT): PollCursor | undefined {
    return this.stmts.getCursor.get(account, region) as PollCursor | undefined;
  }

  /** The account a session's records name (undefined when none does). */
  accountOfSession(sessionId: string): string | undefined {
    return (this.stmts.sessionAccount.get(sessionId.toLowerCase()) as { account: string } | undefined)?.account;
  }

  eventsForSession(sessionId: string): NotebookEvent[] {
    const events = (this.stmts.bySession.all(sessionId.toLowerCase()) as RecordValue[][]).map(toEvent);
    // Calls that name only a calculation (e.g. StopCalculationExecution by a person) belong here too.
    const seen = new Set<string>();
    for (const e of events) {
      if (e.eventName === 'StartCalculationExecution' && e.calculationId && !seen.has(e.calculationId)) {
        seen.add(e.calculationId);
        for (const row of this.stmts.byCalculation.all(e.calculationId) as RecordValue[][]) events.push(toEvent(row));
      }
    }
    return events;
  }

  /** Whether any record of the session's history names it (the bot's own look-ups do not count). */
  sessionKnown(sessionId: string): boolean {
    const id = sessionId.toLowerCase();
    return this.stmts.sessionExists.get(id) !== undefined || this.stmts.readSessionExists.get(id) !== undefined;
  }

  /** The sessions' notable records of [startMs, endMs) (routine reads and set-apart calls live elsewhere). */
  eventsBetweenForDigest(startMs: number, endMs: number): NotebookEvent[] {
    const out: NotebookEvent[] = [];
    for (const row of this.stmts.notableBetween.iterate(startMs, endMs) as Iterable<RecordValue[]>) out.push(toEvent(row));
    return out;
  }

  /** Sessions read (polled) within [startMs, endMs): a session can be busy with no other record in a day. */
  sessionsReadBetween(startMs: number, endMs: number): string[] {
    return (this.stmts.readSessionsBetween.all(startMs, endMs) as Array<{ session_id: string }>).map((r) => r.session_id);
  }

  /**
   * A session's routine reads, summarised: per calculation from the session's own polls and
   * from reads that name only the calculation (a console's GetCalculationExecution).
   */
  readsForSession(sessionId: string, calculationIds: readonly string[]): ReadSummary {
    return this.readsForSessions(new Map([[sessionId, calculationIds]])).get(sessionId)!;
  }

  /** `readsForSession` of many sessions (a digest's hundreds) in two statements, not one per session and calculation. */
  readsForSessions(sessions: ReadonlyMap<string, readonly string[]>): Map<string, ReadSummary> {
    const out = new Map<string, ReadSummary>();
    const byStoredId = new Map<string, string>();
    const sessionsOfCalculation = new Map<string, string[]>();
    for (const [id, calcs] of sessions) {
      out.set(id, { count: 0, calculations: {} });
      byStoredId.set(id.toLowerCase(), id);
      for (const calc of new Set(calcs)) {
        const owners = sessionsOfCalculation.get(calc);
        if (owners) owners.push(id);
        else sessionsOfCalculation.set(calc, [id]);
      }
    }
    type Stat = { session_id: string; calculation_id: string; n: number; last_at: number };
    for (const r of this.stmts.readStatsOfSessions.all(JSON.stringify([...byStoredId.keys()])) as Stat[]) addRead(out.get(byStoredId.get(r.session_id)!)!, r.calculation_id, r.n, r.last_at);
    for (const r of this.stmts.readStatsOfCalculations.all(JSON.stringify([...sessionsOfCalculation.keys()])) as Stat[]) {
      for (const id of sessionsOfCalculation.get(r.calculation_id)!) addRead(out.get(id)!, r.calculation_id, r.n, r.last_at);
    }
    return out;
  }

  /** Everything the model folds for one session: its notable records and its reads, summarised. */
  sessionRecords(sessionId: string): { events: NotebookEvent[]; reads: ReadSummary } {
    const events = this.eventsForSession(sessionId);
    const calcs = events.filter((e) => e.eventName === 'StartCalculationExecution' && e.calculationId).map((e) => e.calculationId!);
    return { events, reads: this.readsForSession(sessionId, [...new Set(calcs)]) };
  }

  /** Calls naming only one of these calculations (a person's StopCalculationExecution), outside [startMs, endMs), by calculation. */
  calculationOnlyEventsOutside(calculationIds: readonly string[], startMs: number, endMs: number): Map<string, NotebookEvent[]> {
    return groupEvents(this.stmts.calculationOnlyOutside.all(JSON.stringify(calculationIds), startMs, endMs) as RecordValue[][], 5);
  }

  /** These sessions' records outside [startMs, endMs), whole, by session. */
  sessionEventsOutside(sessionIds: readonly string[], startMs: number, endMs: number): Map<string, NotebookEvent[]> {
    return groupEvents(this.stmts.sessionsOutside.all(JSON.stringify(sessionIds), startMs, endMs) as RecordValue[][], 4);
  }

  /** The session a calculation belongs to, from its StartCalculationExecution record. */
  sessionOfCalculation(calculationId: string): string | undefined {
    return (this.stmts.calcSession.get(calculationId) as { session_id: string } | undefined)?.session_id;
  }

  notebookName(notebookId: string): string | undefined {
    const row = this.stmts.notebookNames.get(notebookId) as { detail: string | null } | undefined;
    if (!row?.detail) return undefined;
    return (JSON.parse(row.detail) as EventDetail).notebookName;
  }

  /**
   * Successful history records of the given calls stored after `afterRowid` (the order they were
   * stored in, whatever their event time) whose event time is at least `sinceMs`, with their
   * rowid: a reader that remembers the last rowid it saw sees every record once, late ones too.
   */
  historyAfter(afterRowid: number, eventNames: readonly string[], sinceMs: number, limit: number): Array<{ rowid: number; event: NotebookEvent }> {
    const names = eventNames.map(() => '?').join(', ');
    // A reader's first look goes by time (the time index), not through every rowid of a big store.
    const rows = (
      afterRowid > 0
        ? this.db
            .prepare(`SELECT ${RECORD_COLUMNS}, rowid FROM records WHERE rowid > ? AND event_name IN (${names}) AND error_code IS NULL AND event_time >= ? ORDER BY rowid LIMIT ?`)
            .raw()
            .all(afterRowid, ...eventNames, sinceMs, limit)
        : this.db
            .prepare(`SELECT ${RECORD_COLUMNS}, rowid FROM records WHERE event_time >= ? AND event_name IN (${names}) AND error_code IS NULL ORDER BY rowid LIMIT ?`)
            .raw()
            .all(sinceMs, ...eventNames, limit)
    ) as RecordValue[][];
    return rows.map((r) => ({ rowid: r[STORED_COLUMN_COUNT] as number, event: toEvent(r) }));
  }

  /** The rowid of the newest stored history record (0 when none). */
  lastHistoryRowid(): number {
    return (this.db.prepare('SELECT coalesce(max(rowid), 0) AS n FROM records').get() as { n: number }).n;
  }

  /** Sessions whose StartSession falls in [startMs, endMs), oldest first. */
  sessionsStartedBetween(startMs: number, endMs: number): SessionStart[] {
    return this.db
      .prepare(
        `SELECT session_id AS sessionId, region, event_time AS eventTime FROM records
         WHERE event_name = 'StartSession' AND error_code IS NULL AND session_id IS NOT NULL AND event_time >= ? AND event_time < ? ORDER BY event_time`,
      )
      .all(startMs, endMs) as SessionStart[];
  }

  /** Sessions started since `sinceMs` with no TerminateSession record and no terminal Athena state. */
  sessionsWithoutEnd(sinceMs: number): SessionStart[] {
    return this.stmts.openSessions.all(sinceMs) as SessionStart[];
  }

  /** Every stored answer of one kind (e.g. each region's active-session listing). */
  enrichmentsOfKind(kind: EnrichmentKind): EnrichmentRow[] {
    return (this.db.prepare('SELECT id FROM enrichment WHERE kind = ?').all(kind) as Array<{ id: string }>).map((r) => this.getEnrichment(kind, r.id)!);
  }

  getEnrichment(kind: EnrichmentKind, id: string): EnrichmentRow | undefined {
    const row = this.stmts.getEnrichment.get(kind, id) as
      | { kind: EnrichmentKind; id: string; region: string; status: EnrichmentStatus; terminal: number; payload: string | null; fetched_at: number }
      | undefined;
    if (!row) return undefined;
    return {
      kind: row.kind,
      id: row.id,
      region: row.region,
      status: row.status,
      terminal: row.terminal === 1,
      payload: row.payload ? JSON.parse(row.payload) : null,
      fetchedAt: row.fetched_at,
    };
  }

  /**
   * Marks the non-final calculation answers of a session as no longer known (Athena now refuses
   * to list them): a RUNNING from before the refusal must not stand as confirmed for ever.
   */
  withdrawOpenCalculationAnswers(sessionId: string, status: EnrichmentStatus, now: number): number {
    return this.write(
      () =>
        this.db
          .prepare(`UPDATE enrichment SET status = ?, payload = NULL, fetched_at = ? WHERE kind = 'calculation' AND terminal = 0 AND status = 'ok' AND json_extract(payload, '$.sessionId') = ?`)
          .run(status, now, sessionId.toLowerCase()).changes,
    );
  }

  putEnrichment(row: EnrichmentRow): void {
    this.write(() =>
      this.stmts.putEnrichment.run({
        kind: row.kind,
        id: row.id,
        region: row.region,
        status: row.status,
        terminal: row.terminal ? 1 : 0,
        payload: row.payload == null ? null : JSON.stringify(row.payload),
        fetchedAt: row.fetchedAt,
      }),
    );
  }

  /** Every CloudTrail record stored: the history, the routine reads and the calls set apart. */
  recordCount(): number {
    return (this.stmts.countRecords.get() as { n: number }).n;
  }

  /** Deletes records, enrichment and Slack bookkeeping older than the retention period. */
  prune(now: number, retentionDays: number): { records: number } {
    const cutoff = now - retentionDays * DAY;
    return this.write(() => {
      const records = this.db.prepare('DELETE FROM records WHERE event_time < ?').run(cutoff).changes;
      const reads = this.db.prepare('DELETE FROM reads WHERE event_time < ?').run(cutoff).changes;
      const own = this.db.prepare('DELETE FROM own_calls WHERE event_time < ?').run(cutoff).changes;
      if (reads) this.rebuildReadStats();
      this.db.prepare('DELETE FROM enrichment WHERE fetched_at < ?').run(cutoff);
      this.db.prepare('DELETE FROM rejected_records WHERE last_seen < ?').run(cutoff);
      this.db.prepare(`DELETE FROM slack_posts WHERE created_at < ? AND status != 'pending'`).run(cutoff);
      // The feed, alert state, edits and the action audit age out with the posts they belong to.
      this.db.prepare(`DELETE FROM feed_items WHERE created_at < ?`).run(cutoff);
      this.db.prepare(`DELETE FROM slack_updates WHERE updated_at < ? AND status != 'pending'`).run(cutoff);
      this.db.prepare(`DELETE FROM alert_posts WHERE created_at < ?`).run(cutoff);
      this.db.prepare(`DELETE FROM session_snoozes WHERE until < ?`).run(cutoff);
      this.db.prepare(`DELETE FROM slack_actions WHERE requested_at < ? AND status != 'started'`).run(cutoff);
      return { records: records + reads + own };
    });
  }

  /** The rules that decide which calls are set apart (SPEC §2), as every connection to this store sees them. */
  callerRules(): CallerRules {
    return this.rules;
  }

  /**
   * Sets IGNORE_PRINCIPALS. When the list changed, calls already stored move between the
   * history and the set-apart calls, so a monitor added to the list stops counting at once.
   * Returns how many records moved.
   */
  setIgnorePrincipals(principals: readonly string[]): number {
    const next = [...new Set(principals)].sort();
    if (JSON.stringify(next) === JSON.stringify([...this.rules.ignorePrincipals].sort())) return 0;
    return this.changeCallerRules({ ...this.rules, ignorePrincipals: next });
  }

  /**
   * Remembers a principal the bot runs as (from STS GetCallerIdentity). Its reads and refused
   * calls already stored (made before the bot's user agent was set) are set apart too.
   */
  addBotPrincipal(arn: string): number {
    if (this.rules.botPrincipals.includes(arn)) return 0;
    // A role's sessions get new names (task ids, hosts): keep the most recent few of each
    // account, so that watching many accounts never pushes one account's principal out.
    const account = accountOfArn(arn);
    const sameAccount = this.rules.botPrincipals.filter((p) => accountOfArn(p) === account);
    const dropped = new Set(sameAccount.slice(0, Math.max(0, sameAccount.length + 1 - MAX_BOT_PRINCIPALS_PER_ACCOUNT)));
    return this.changeCallerRules({ ...this.rules, botPrincipals: [...this.rules.botPrincipals.filter((p) => !dropped.has(p)), arn] });
  }

  /**
   * Calls set apart in [sinceMs, untilMs), grouped: the bot's own and ignored principals', by call
   * and error. The bot's refused calls are operator advice (a missing permission).
   */
  setApartSummary(sinceMs: number, untilMs = Number.MAX_SAFE_INTEGER): Array<{ reason: SetApartReason; eventName: string; errorCode: string | null; count: number; lastAt: number }> {
    return this.stmts.setApartSummary.all(sinceMs, untilMs) as Array<{ reason: SetApartReason; eventName: string; errorCode: string | null; count: number; lastAt: number }>;
  }

  private loadCallerRules(): void {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'caller_rules'`).get() as { value: string } | undefined;
    this.rules = row ? (JSON.parse(row.value) as CallerRules) : NO_CALLER_RULES;
    this.classify = callerClassifier(this.rules);
  }

  private changeCallerRules(next: CallerRules): number {
    return this.write(() => {
      // Another connection (a worker thread) may have changed them since this one loaded them.
      this.loadCallerRules();
      this.db.prepare(`INSERT INTO meta (key, value) VALUES ('caller_rules', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(JSON.stringify(next));
      this.rules = next;
      this.classify = callerClassifier(next);
      return this.reclassify();
    });
  }

  /** Moves stored calls to where the current caller rules put them. Runs only when the rules change. */
  private reclassify(): number {
    const cols = RECORD_COLUMNS;
    let moved = 0;
    let readsMoved = false;
    const toOwn = (table: 'records' | 'reads') => {
      const rows = this.db
        .prepare(`SELECT event_id, event_name, principal, principal_arn, read_only, error_code FROM ${table}${table === 'records' ? ' WHERE read_only = 1 OR error_code IS NOT NULL' : ''}`)
        .all() as Array<{ event_id: string; event_name: string; principal: string; principal_arn: string | null; read_only: number; error_code: string | null }>;
      const copy = this.db.prepare(`INSERT OR IGNORE INTO own_calls (${cols}, ingested_at, reason) SELECT ${cols}, ingested_at, ? FROM ${table} WHERE event_id = ?`);
      const remove = this.db.prepare(`DELETE FROM ${table} WHERE event_id = ?`);
      for (const r of rows) {
        const reason = this.classify({ principal: r.principal, principalArn: r.principal_arn, readOnly: r.read_only === 1, errorCode: r.error_code, botAgent: false });
        if (!reason) continue;
        copy.run(reason, r.event_id);
        remove.run(r.event_id);
        moved++;
        if (table === 'reads') readsMoved = true;
      }
    };
    toOwn('records');
    toOwn('reads');
    // Calls set apart only because their principal was ignored go back when it no longer is.
    const ignored = this.db.prepare(`SELECT event_id, event_name, principal, principal_arn, read_only, error_code FROM own_calls WHERE reason = 'ignored'`).all() as Array<{
      event_id: string;
      event_name: string;
      principal: string;
      principal_arn: string | null;
      read_only: number;
      error_code: string | null;
    }>;
    for (const r of ignored) {
      const fields = { principal: r.principal, principalArn: r.principal_arn, readOnly: r.read_only === 1, errorCode: r.error_code, botAgent: false, eventName: r.event_name };
      const reason = this.classify(fields);
      if (reason === 'ignored') continue;
      if (reason === 'bot') {
        this.db.prepare(`UPDATE own_calls SET reason = 'bot' WHERE event_id = ?`).run(r.event_id);
        continue;
      }
      const table = isRoutineRead(fields) ? 'reads' : 'records';
      this.db.prepare(`INSERT OR IGNORE INTO ${table} (${cols}, ingested_at) SELECT ${cols}, ingested_at FROM own_calls WHERE event_id = ?`).run(r.event_id);
      this.db.prepare(`DELETE FROM own_calls WHERE event_id = ?`).run(r.event_id);
      moved++;
      if (table === 'reads') readsMoved = true;
    }
    if (readsMoved) this.rebuildReadStats();
    return moved;
  }

  private rebuildReadStats(): void {
    this.db.exec(`DELETE FROM read_stats;
      INSERT INTO read_stats SELECT coalesce(session_id, ''), coalesce(calculation_id, ''), count(*), min(event_time), max(event_time) FROM reads GROUP BY 1, 2;`);
  }

  /** Runs `fn` in a transaction (a savepoint inside `begin`/`commit`), turning SQLite failures into a clear StoreError. */
  write<T>(fn: () => T): T {
    return this.guard(() => this.db.transaction(fn)());
  }

  /**
   * Opens a write transaction that spans many `write` calls: a bulk ingest feeds it rows as
   * they are parsed and commits every few tens of thousands, so index work is spread out
   * evenly instead of arriving in bursts.
   */
  begin(): void {
    this.guard(() => this.db.exec('BEGIN IMMEDIATE'));
    this.bulkReadsFrom = undefined;
  }

  commit(): void {
    this.guard(() => {
      if (this.bulkReadsFrom !== undefined && this.bulkReadsFrom !== null) this.stmts.countNewReads.run(this.bulkReadsFrom);
      this.db.exec('COMMIT');
    });
    this.bulkReadsFrom = null;
  }

  /** Abandons the open transaction, if any. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.bulkReadsFrom = null;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_READONLY')) throw new StoreError(`the database is read-only (${this.db.name}): check the disk and file permissions`);
      if (code === 'SQLITE_FULL') throw new StoreError(`the disk holding ${this.db.name} is full`);
      if (code.startsWith('SQLITE_')) throw new StoreError(`database write failed (${code}): ${(err as Error).message}`);
      throw err;
    }
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the database was written by a newer version (schema ${current}, this program knows ${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
