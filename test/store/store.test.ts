import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  call,
  executor,
  createNotebook,
  fakeUuid,
  human,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import type { NotebookEvent } from '../../src/records/types.js';
import { Store, StoreError } from '../../src/store/store.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { AppError } from '../../src/util/errors.js';
import { toEvent as ev } from '../support/events.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const T0 = Date.parse('2026-05-04T10:00:00Z');

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) {
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tempFile(name = 'store.sqlite'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asb-store-'));
  dirs.push(dir);
  return path.join(dir, name);
}
function open(file = tempFile()): Store {
  const s = Store.open(file);
  stores.push(s);
  return s;
}
const userVersion = (s: Store) => s.db.pragma('user_version', { simple: true }) as number;

describe('Store.open', () => {
  it('creates the directory and an owner-only (0600) file', () => {
    const file = path.join(tempFile(), '..', 'nested', 'deeper', 'db.sqlite');
    const s = open(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }))], T0);
    for (const suffix of ['-wal', '-shm']) {
      if (fs.existsSync(file + suffix)) expect(fs.statSync(file + suffix).mode & 0o777).toBe(0o600);
    }
  });

  it('tightens the mode of an existing, too-open file', () => {
    const file = tempFile();
    fs.writeFileSync(file, '');
    fs.chmodSync(file, 0o644);
    open(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('runs the migrations, uses WAL, and reopening is idempotent', () => {
    const file = tempFile();
    const s = open(file);
    expect(userVersion(s)).toBe(MIGRATIONS.length);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['records', 'poll_cursors', 'enrichment', 'rejected_records', 'slack_posts']));
    s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }))], T0);
    s.close();

    const again = open(file);
    expect(userVersion(again)).toBe(MIGRATIONS.length);
    expect(again.recordCount()).toBe(1);
    again.close();
    const third = open(file);
    expect(third.recordCount()).toBe(1);
  });

  it('refuses a database from a newer version with a clear StoreError', () => {
    const file = tempFile();
    open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    let err: unknown;
    try {
      stores.push(Store.open(file));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toBeInstanceOf(AppError);
    expect((err as StoreError).exitCode).toBe(1);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/newer version \(schema \d+, this program knows \d+\)/);
  });

  it('turns an unopenable path into a StoreError', () => {
    const file = tempFile();
    fs.mkdirSync(file); // a directory where the file should be
    expect(() => Store.open(file)).toThrow(StoreError);
    expect(() => Store.open(file)).toThrow(/cannot open the database at/);
  });

  it('works in memory', () => {
    const s = open(':memory:');
    expect(s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }))], T0)).toBe(1);
  });
});

describe('records', () => {
  it('deduplicates on eventID: the same event twice is one row, and the second insert reports 0', () => {
    const s = open();
    const e = ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }));
    expect(s.insertEvents([e], T0)).toBe(1);
    expect(s.insertEvents([e], T0 + 1)).toBe(0);
    expect(s.insertEvents([e, e, { ...e }], T0 + 2)).toBe(0);
    expect(s.recordCount()).toBe(1);
    expect(s.db.prepare('SELECT ingested_at AS t FROM records').get()).toEqual({ t: T0 });
  });

  it('gives back exactly what was stored, and the routine reads as a summary', () => {
    const s = open();
    const sid = fakeUuid();
    const start = ev(startSession({ sessionId: sid, eventTime: T0 }));
    const failed = ev(call('GetSessionStatus', { actor: human('bob'), eventTime: T0 + 2 * MINUTE, params: { sessionId: sid }, errorCode: 'ThrottlingException' }));
    const poll = ev(call('GetSessionStatus', { actor: human('bob'), eventTime: T0 + MINUTE, params: { sessionId: sid } }));
    s.insertEvents([poll, failed, start], T0);
    expect(s.eventsForSession(sid)).toEqual([start, failed]);
    expect(s.eventsForSession(sid.toUpperCase())).toEqual([start, failed]);
    expect(s.sessionRecords(sid)).toEqual({ events: [start, failed], reads: { count: 1, calculations: {} } });
    expect(s.sessionKnown(sid.toUpperCase())).toBe(true);
    expect(s.sessionKnown(fakeUuid())).toBe(false);
    expect(s.recordCount()).toBe(3);
  });

  it('knows a session seen only in routine reads', () => {
    const s = open();
    const sid = fakeUuid();
    s.insertEvents([ev(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 }))], T0);
    expect(s.sessionKnown(sid)).toBe(true);
    expect(s.eventsForSession(sid)).toEqual([]);
    expect(s.readsForSession(sid, [])).toEqual({ count: 1, calculations: {} });
  });

  it('summarises routine reads per session and calculation, counting each record once', () => {
    const s = open();
    const sid = fakeUuid();
    const cid = fakeUuid();
    const polls = [1, 2, 3].map((m) => ev(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 + m * MINUTE, params: { calculationExecutionId: cid } })));
    // A console's look-up that names only the calculation, and a session status poll.
    const consoleRead = ev(call('GetCalculationExecution', { actor: human('bob'), eventTime: T0 + 9 * MINUTE, params: { calculationExecutionId: cid } }));
    const sessionPoll = ev(call('GetSessionStatus', { actor: human('bob'), eventTime: T0 + 4 * MINUTE, params: { sessionId: sid } }));
    expect(s.insertEvents([...polls, consoleRead, sessionPoll], T0)).toBe(5);
    expect(s.insertEvents([...polls, consoleRead], T0)).toBe(0);
    expect(s.readsForSession(sid, [cid])).toEqual({ count: 5, calculations: { [cid]: { count: 4, lastAt: T0 + 9 * MINUTE } } });
    expect(s.readsForSession(sid, [])).toEqual({ count: 4, calculations: { [cid]: { count: 3, lastAt: T0 + 3 * MINUTE } } });
    expect(s.sessionsReadBetween(T0 + 3 * MINUTE, T0 + 10 * MINUTE)).toEqual([sid]);
    expect(s.sessionsReadBetween(T0 + 5 * MINUTE, T0 + 10 * MINUTE)).toEqual([]);
    expect(s.sessionsReadBetween(T0 - MINUTE, T0 + MINUTE)).toEqual([]);
  });

  it('adds calls that name only a calculation of the session', () => {
    const s = open();
    const sid = fakeUuid();
    const cid = fakeUuid();
    const other = fakeUuid();
    s.insertEvents(
      [
        ev(startSession({ sessionId: sid, eventTime: T0 })),
        ev(startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })),
        ev(stopCalculation({ calculationId: cid, eventTime: T0 + 2 * MINUTE, actor: human('alias') })),
        ev(stopCalculation({ calculationId: other, eventTime: T0 + 2 * MINUTE, actor: human('alias') })),
      ],
      T0,
    );
    expect(s.eventsForSession(sid).map((e) => [e.eventName, e.calculationId])).toEqual([
      ['StartSession', null],
      ['StartCalculationExecution', cid],
      ['StopCalculationExecution', cid],
    ]);
  });

  it('answers time-range questions with half-open intervals', () => {
    const s = open();
    const a = fakeUuid();
    const b = fakeUuid();
    s.insertEvents(
      [
        ev(startSession({ sessionId: a, eventTime: T0 })),
        ev(startSession({ sessionId: b, eventTime: T0 + MINUTE })),
        ev(importNotebook({ notebookId: 'nb', eventTime: T0 + 2 * MINUTE })),
      ],
      T0,
    );
    expect(s.eventsBetweenForDigest(T0, T0 + 2 * MINUTE).map((e) => e.sessionId)).toEqual([a, b]);
    expect(s.eventsBetweenForDigest(T0 + 1, T0 + 3 * MINUTE)).toHaveLength(2);
    expect(s.sessionEventsOutside([a], T0, T0 + MINUTE).get(a)).toBeUndefined();
    expect(s.sessionEventsOutside([a, b], T0, T0 + MINUTE).get(b)!.map((e) => e.eventName)).toEqual(['StartSession']);
  });

  it('reads the notable records whole for the digest, and no routine status poll', () => {
    const s = open();
    const sid = fakeUuid();
    s.insertEvents(
      [
        ev(startSession({ sessionId: sid, eventTime: T0 })),
        ev(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 + MINUTE, params: { calculationExecutionId: 'c1' } })),
        ev(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 + 2 * MINUTE, params: { sessionId: sid }, errorCode: 'ThrottlingException' })),
        ev(call('GetSessionEndpoint', { actor: human('alias'), eventTime: T0 + 3 * MINUTE, params: { sessionId: sid } })),
      ],
      T0,
    );
    const [start, failed, endpoint, ...rest] = s.eventsBetweenForDigest(T0, T0 + 3_600_000).sort((x, y) => x.eventTime - y.eventTime);
    expect(rest).toEqual([]);
    expect(start).toMatchObject({ eventName: 'StartSession', principal: 'alias' });
    expect(start!.detail.sourceIp).toBe('203.0.113.10');
    expect(failed).toMatchObject({ errorCode: 'ThrottlingException', principal: `AthenaExecutor-${sid}` });
    // Spark Connect credentials are handed out to someone using the session: not routine.
    expect(endpoint).toMatchObject({ eventName: 'GetSessionEndpoint', readOnly: true });
  });

  it('names notebooks from their latest successful import or creation', () => {
    const s = open();
    s.insertEvents(
      [
        ev(importNotebook({ notebookId: 'nb-1', name: 'old name', eventTime: T0 })),
        ev(createNotebook({ notebookId: 'nb-1', name: 'new name', eventTime: T0 + MINUTE })),
        ev(importNotebook({ notebookId: 'nb-1', name: 'failed', eventTime: T0 + 2 * MINUTE, errorCode: 'ThrottlingException' })),
      ],
      T0,
    );
    expect(s.notebookName('nb-1')).toBe('new name');
    expect(s.notebookName('nb-unknown')).toBeUndefined();
  });
});

describe('commitPoll', () => {
  it('stores the page and moves the cursor together', () => {
    const s = open();
    expect(s.getCursor('us-east-1')).toBeUndefined();
    const e = ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }));
    expect(s.commitPoll({ region: 'us-east-1', cursorMs: T0 + MINUTE, strategy: 'event-source', strategyCycles: 3 }, [e], T0 + 2 * MINUTE)).toBe(1);
    expect(s.getCursor('us-east-1')).toEqual({ account: '', region: 'us-east-1', cursorMs: T0 + MINUTE, strategy: 'event-source', strategyCycles: 3, updatedAt: T0 + 2 * MINUTE });
    expect(s.commitPoll({ region: 'us-east-1', cursorMs: T0 + 5 * MINUTE, strategy: 'event-names', strategyCycles: 0 }, [e], T0 + 6 * MINUTE)).toBe(0);
    expect(s.getCursor('us-east-1')).toMatchObject({ cursorMs: T0 + 5 * MINUTE, strategy: 'event-names', strategyCycles: 0 });
    expect(s.getCursor('eu-west-1')).toBeUndefined();
  });

  it('moves nothing when the page cannot be stored', () => {
    const s = open();
    s.commitPoll({ region: 'us-east-1', cursorMs: T0, strategy: 'event-source', strategyCycles: 0 }, [], T0);
    const good = ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }));
    // A value SQLite cannot bind makes the second insert throw after the first succeeded.
    const bad = { ...ev(startSession({ sessionId: fakeUuid(), eventTime: T0 })), eventTime: { not: 'a number' } } as unknown as NotebookEvent;
    expect(() => s.commitPoll({ region: 'us-east-1', cursorMs: T0 + DAY, strategy: 'event-source', strategyCycles: 0 }, [good, bad], T0 + 1)).toThrow();
    expect(s.recordCount()).toBe(0);
    expect(s.getCursor('us-east-1')?.cursorMs).toBe(T0);
  });
});

describe('poll cursors per account and region', () => {
  it('keeps one cursor per account × region, apart from the default credentials\' one', () => {
    const s = open();
    s.commitPoll({ region: 'us-east-1', cursorMs: T0, strategy: 'event-source', strategyCycles: 0 }, [], T0);
    s.commitPoll({ account: '111111111111', region: 'us-east-1', cursorMs: T0 + MINUTE, strategy: 'event-names', strategyCycles: 30 }, [], T0 + MINUTE);
    s.commitPoll({ account: '222222222222', region: 'us-east-1', cursorMs: T0 + 2 * MINUTE, strategy: 'event-source', strategyCycles: 0 }, [], T0 + 2 * MINUTE);
    expect(s.getCursor('us-east-1')).toMatchObject({ account: '', cursorMs: T0 });
    expect(s.getCursor('us-east-1', '111111111111')).toMatchObject({ account: '111111111111', cursorMs: T0 + MINUTE, strategy: 'event-names', strategyCycles: 30 });
    expect(s.getCursor('us-east-1', '222222222222')).toMatchObject({ cursorMs: T0 + 2 * MINUTE, strategy: 'event-source' });
    expect(s.getCursor('eu-west-1', '111111111111')).toBeUndefined();
  });

  it('an existing single-account store keeps its cursors through the migration: the next poll reads on, not a new backfill', () => {
    const file = tempFile();
    const db = new Database(file);
    for (const m of MIGRATIONS.slice(0, 3)) db.exec(m);
    db.pragma('user_version = 3');
    db.prepare(`INSERT INTO poll_cursors (region, cursor_ms, strategy, strategy_cycles, updated_at) VALUES (?, ?, ?, ?, ?)`).run('eu-west-1', T0, 'event-names', 12, T0 + 5);
    db.close();
    const s = open(file);
    expect(s.getCursor('eu-west-1')).toEqual({ account: '', region: 'eu-west-1', cursorMs: T0, strategy: 'event-names', strategyCycles: 12, updatedAt: T0 + 5 });
    expect(s.getCursor('eu-west-1', '111111111111')).toBeUndefined();
  });

  it('names the account a session\'s records were made in', () => {
    const s = open();
    const sid = fakeUuid();
    s.insertEvents([ev(startSession({ sessionId: sid, eventTime: T0, actor: { kind: 'assumed-role', role: 'Admin', sessionName: 'x', account: '333333333333' } }))], T0);
    expect(s.accountOfSession(sid.toUpperCase())).toBe('333333333333');
    expect(s.accountOfSession(fakeUuid())).toBeUndefined();
  });
});

describe('rejected records', () => {
  it('are deduplicated by content, with counts', () => {
    const s = open();
    s.recordRejections([], T0);
    s.recordRejections([{ reason: 'bad', source: 'file.json', raw: '{"a":1}' }], T0);
    s.recordRejections([{ reason: 'bad', source: 'file.json', raw: '{"a":1}' }], T0 + 1);
    s.recordRejections([{ reason: 'worse', source: 'lookup', raw: '{"b":2}' }], T0 + 2);
    expect(s.rejectionCount()).toBe(3);
    const rows = s.db.prepare('SELECT reason, count, first_seen AS firstSeen, last_seen AS lastSeen FROM rejected_records ORDER BY reason').all();
    expect(rows).toEqual([
      { reason: 'bad', count: 2, firstSeen: T0, lastSeen: T0 + 1 },
      { reason: 'worse', count: 1, firstSeen: T0 + 2, lastSeen: T0 + 2 },
    ]);
  });

  it('keep only a sample of a huge item', () => {
    const s = open();
    s.recordRejections([{ reason: 'huge', source: 'x', raw: 'z'.repeat(100_000) }], T0);
    const row = s.db.prepare('SELECT sample FROM rejected_records').get() as { sample: string };
    expect(row.sample).toHaveLength(4097);
    expect(row.sample.endsWith('…')).toBe(true);
  });
});

describe('enrichment', () => {
  it('round-trips and replaces an answer', () => {
    const s = open();
    const sid = fakeUuid();
    expect(s.getEnrichment('session', sid)).toBeUndefined();
    s.putEnrichment({ kind: 'session', id: sid, region: 'us-east-1', status: 'ok', terminal: false, payload: { state: 'IDLE', startedAt: T0 }, fetchedAt: T0 });
    expect(s.getEnrichment('session', sid)).toEqual({ kind: 'session', id: sid, region: 'us-east-1', status: 'ok', terminal: false, payload: { state: 'IDLE', startedAt: T0 }, fetchedAt: T0 });
    s.putEnrichment({ kind: 'session', id: sid, region: 'us-east-1', status: 'ok', terminal: true, payload: { state: 'TERMINATED' }, fetchedAt: T0 + 1 });
    expect(s.getEnrichment('session', sid)).toMatchObject({ terminal: true, payload: { state: 'TERMINATED' }, fetchedAt: T0 + 1 });
    s.putEnrichment({ kind: 'calculation', id: sid, region: 'us-east-1', status: 'denied', terminal: false, payload: null, fetchedAt: T0 });
    expect(s.getEnrichment('calculation', sid)).toEqual({ kind: 'calculation', id: sid, region: 'us-east-1', status: 'denied', terminal: false, payload: null, fetchedAt: T0 });
    expect(s.getEnrichment('session', sid)?.status).toBe('ok');
  });
});

describe('sessionsWithoutEnd', () => {
  it('lists started sessions with no TerminateSession and no terminal Athena answer, newest first', () => {
    const s = open();
    const [open1, open2, terminated, failedTerminate, athenaEnded, athenaIdle, old] = Array.from({ length: 7 }, () => fakeUuid());
    s.insertEvents(
      [
        ev(startSession({ sessionId: open1!, eventTime: T0 })),
        ev(startSession({ sessionId: open2!, eventTime: T0 + 2 * MINUTE })),
        ev(startSession({ sessionId: terminated!, eventTime: T0 })),
        ev(terminateSession({ sessionId: terminated!, eventTime: T0 + MINUTE })),
        ev(startSession({ sessionId: failedTerminate!, eventTime: T0 + MINUTE })),
        ev(terminateSession({ sessionId: failedTerminate!, eventTime: T0 + MINUTE, errorCode: 'AccessDeniedException' })),
        ev(startSession({ sessionId: athenaEnded!, eventTime: T0 })),
        ev(startSession({ sessionId: athenaIdle!, eventTime: T0 })),
        ev(startSession({ sessionId: old!, eventTime: T0 - 8 * DAY })),
        ev(startSession({ sessionId: fakeUuid(), eventTime: T0, errorCode: 'InvalidRequestException' })),
      ],
      T0,
    );
    s.putEnrichment({ kind: 'session', id: athenaEnded!, region: 'us-east-1', status: 'ok', terminal: true, payload: { state: 'TERMINATED' }, fetchedAt: T0 });
    s.putEnrichment({ kind: 'session', id: athenaIdle!, region: 'us-east-1', status: 'ok', terminal: false, payload: { state: 'IDLE' }, fetchedAt: T0 });
    const found = s.sessionsWithoutEnd(T0 - 7 * DAY);
    expect(found.map((r) => r.sessionId).sort()).toEqual([open1, open2, failedTerminate, athenaIdle].sort());
    expect(found[0]).toEqual({ sessionId: open2, region: 'us-east-1', eventTime: T0 + 2 * MINUTE });
    expect(found.map((r) => r.eventTime)).toEqual([...found.map((r) => r.eventTime)].sort((a, b) => b - a));
    expect(s.sessionsWithoutEnd(T0 - 9 * DAY).map((r) => r.sessionId)).toContain(old);
  });
});

describe('prune', () => {
  it('removes records, enrichment and rejects older than the retention period', () => {
    const s = open();
    const now = T0 + 100 * DAY;
    const oldSession = fakeUuid();
    const newSession = fakeUuid();
    s.insertEvents(
      [ev(startSession({ sessionId: oldSession, eventTime: now - 91 * DAY })), ev(startSession({ sessionId: newSession, eventTime: now - 89 * DAY }))],
      now,
    );
    s.putEnrichment({ kind: 'session', id: oldSession, region: 'us-east-1', status: 'ok', terminal: true, payload: null, fetchedAt: now - 91 * DAY });
    s.putEnrichment({ kind: 'session', id: newSession, region: 'us-east-1', status: 'ok', terminal: true, payload: null, fetchedAt: now - DAY });
    s.recordRejections([{ reason: 'old', source: 'x', raw: 'old' }], now - 91 * DAY);
    s.recordRejections([{ reason: 'new', source: 'x', raw: 'new' }], now - DAY);

    expect(s.prune(now, 90)).toEqual({ records: 1 });
    expect(s.sessionKnown(oldSession)).toBe(false);
    expect(s.sessionKnown(newSession)).toBe(true);
    expect(s.getEnrichment('session', oldSession)).toBeUndefined();
    expect(s.getEnrichment('session', newSession)).toBeDefined();
    expect(s.rejectionCount()).toBe(1);
    expect(s.prune(now, 90)).toEqual({ records: 0 });
  });

  it('keeps a record exactly at the cutoff', () => {
    const s = open();
    const now = T0 + 100 * DAY;
    s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: now - 90 * DAY }))], now);
    expect(s.prune(now, 90).records).toBe(0);
  });
});

describe('write errors', () => {
  it('maps SQLITE_READONLY to a StoreError that says read-only', () => {
    const s = open();
    const fail = (code: string, message: string) => () =>
      s.write(() => {
        throw Object.assign(new Error(message), { code });
      });
    expect(fail('SQLITE_READONLY', 'attempt to write a readonly database')).toThrow(StoreError);
    expect(fail('SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database')).toThrow(/read-only/);
    expect(fail('SQLITE_FULL', 'database or disk is full')).toThrow(/is full/);
    expect(fail('SQLITE_IOERR', 'disk I/O error')).toThrow(/database write failed \(SQLITE_IOERR\): disk I\/O error/);
    const plain = new TypeError('not a database problem');
    expect(() =>
      s.write(() => {
        throw plain;
      }),
    ).toThrow(plain);
  });

  it('turns a real SQLITE_READONLY from SQLite (query_only connection) into the read-only StoreError', () => {
    const s = open();
    s.db.pragma('query_only = 1');
    expect(() => s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }))], T0)).toThrow(/the database is read-only .*check the disk and file permissions/);
    expect(() => s.putEnrichment({ kind: 'session', id: 'x', region: 'r', status: 'ok', terminal: false, payload: null, fetchedAt: 0 })).toThrow(StoreError);
  });

  it('fails clearly on a database made read-only on disk', () => {
    const file = tempFile();
    open(file).close();
    fs.chmodSync(file, 0o444);
    fs.chmodSync(path.dirname(file), 0o555);
    try {
      // As root permissions are not enforced, so there is nothing to observe here (the
      // query_only case above covers the error mapping with a real SQLite error).
      try {
        fs.accessSync(file, fs.constants.W_OK);
        return;
      } catch {
        // not writable: the real case
      }
      let err: unknown;
      try {
        const s = Store.open(file);
        stores.push(s);
        s.insertEvents([ev(startSession({ sessionId: fakeUuid(), eventTime: T0 }))], T0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/read-only|permission denied|EACCES/i);
    } finally {
      fs.chmodSync(path.dirname(file), 0o700);
      fs.chmodSync(file, 0o600);
    }
  });
});
