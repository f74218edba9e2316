import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { call, fakeUuid, human, importNotebook, startSession } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { tempDir } from '../support/harness.js';
import { storesClosedAfterEach } from '../support/stores.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { ActionAudit, type ActionRequest } from '../../src/store/action-audit.js';
import { MessageUpdates } from '../../src/store/message-updates.js';
import { FeedItems } from '../../src/store/feed-items.js';
import { DAY, MINUTE } from '../../src/util/clock.js';
import path from 'node:path';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const open = storesClosedAfterEach();
const dbs: Database.Database[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
});

describe('migration 4 (on call in Slack)', () => {
  it('an existing store keeps its alerts as they were posted: static messages, not edited', () => {
    const file = path.join(tempDir(), 'v3.sqlite');
    const db = new Database(file);
    dbs.push(db);
    db.transaction(() => {
      for (const m of MIGRATIONS.slice(0, 3)) db.exec(m);
      db.pragma('user_version = 3');
    })();
    db.prepare(`INSERT INTO slack_posts (key, kind, channel, payload, status, ts, created_at) VALUES ('alert:c1', 'alert', 'C0ALERTS', '{}', 'posted', '1.1', 1)`).run();
    db.prepare(`INSERT INTO alerts (calculation_id, session_id, region, post_key, confirmed, status, created_at) VALUES ('c1', 's1', 'us-east-1', 'alert:c1', 1, 'open', 5)`).run();
    db.close();
    dbs.pop();
    const s = open(file);
    expect(s.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(s.db.prepare('SELECT post_key, channel, live, created_at FROM alert_posts').all()).toEqual([{ post_key: 'alert:c1', channel: 'C0ALERTS', live: 0, created_at: 5 }]);
    const tables = (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['feed_items', 'slack_updates', 'alert_posts', 'session_snoozes', 'slack_actions']));
  });
});

describe('Store.historyAfter: every stored record once, in the order stored', () => {
  it('finds a record stored late with an old event time; filters calls, failures and the floor', () => {
    const s = open(':memory:');
    const a = fakeUuid();
    s.insertEvents(toEvents([startSession({ sessionId: a, eventTime: T0 - 10 * MINUTE }), call('GetSession', { actor: human('x'), eventTime: T0, params: { sessionId: a }, readOnly: false })]), T0);
    const first = s.historyAfter(0, ['StartSession', 'ImportNotebook'], T0 - 60 * MINUTE, 100);
    expect(first.map((r) => r.event.sessionId)).toEqual([a]);
    const cursor = s.lastHistoryRowid();
    const late = fakeUuid();
    s.insertEvents(
      toEvents([
        startSession({ sessionId: late, eventTime: T0 - 40 * MINUTE }),
        startSession({ sessionId: fakeUuid(), eventTime: T0 - 5 * MINUTE, errorCode: 'AccessDeniedException' }),
        startSession({ sessionId: fakeUuid(), eventTime: T0 - 2 * 60 * MINUTE }),
        importNotebook({ notebookId: fakeUuid(), eventTime: T0 - MINUTE }),
      ]),
      T0,
    );
    const next = s.historyAfter(cursor, ['StartSession', 'ImportNotebook'], T0 - 60 * MINUTE, 100);
    expect(next.map((r) => r.event.eventName)).toEqual(['StartSession', 'ImportNotebook']);
    expect(next[0]!.event.sessionId).toBe(late);
    expect(next[0]!.rowid).toBeGreaterThan(cursor);
    expect(s.historyAfter(next[1]!.rowid, ['StartSession'], 0, 100)).toEqual([]);
  });

  it('the feed’s floor is set once and its cursor moves with what it recorded', () => {
    const s = open(':memory:');
    const items = new FeedItems(s);
    expect(items.floor(T0)).toBe(T0);
    expect(items.floor(T0 + DAY)).toBe(T0);
    expect(items.cursor()).toBe(0);
    items.add([{ key: 'session:x', kind: 'session', sessionId: 'x', region: 'us-east-1', channel: 'C0LIVEFEED', postKey: 'feed:session:x', shown: 'f', live: true }], 42, T0);
    expect(items.cursor()).toBe(42);
    expect(items.known(['session:x', 'session:y'])).toEqual(new Set(['session:x']));
  });
});

describe('ActionAudit', () => {
  const req = (target: string, action: ActionRequest['action'] = 'stop-calculation'): ActionRequest => ({ action, target, sessionId: 's', calculationId: target, region: 'us-east-1', userId: 'U0ONCALL', postKey: 'alert:x' });

  it('a stop is under way or done once: a second finds the first; a refusal or failure does not block a new one', () => {
    const audit = new ActionAudit(open(':memory:'));
    const first = audit.record(req('c1'), 'started', null, T0);
    expect(first.existing).toBe(false);
    const second = audit.record({ ...req('c1'), userId: 'U0OTHER' }, 'started', null, T0 + 1);
    expect(second).toMatchObject({ existing: true, record: { id: first.record.id, userId: 'U0ONCALL' } });
    audit.finish(first.record.id, 'denied', 'no permission', T0 + 2);
    expect(audit.record(req('c1'), 'started', null, T0 + 3).existing).toBe(false);
    // Refused users and snoozes are kept as they come.
    expect(audit.record(req('c2'), 'forbidden', 'not in ACTION_USER_IDS', T0).existing).toBe(false);
    expect(audit.record(req('c2'), 'forbidden', 'not in ACTION_USER_IDS', T0).existing).toBe(false);
    expect(audit.record(req('alert:x', 'snooze'), 'done', null, T0).existing).toBe(false);
    expect(audit.record(req('alert:x', 'snooze'), 'done', null, T0).existing).toBe(false);
    expect(audit.unfinished().map((r) => r.target)).toEqual(['c1']);
  });
});

describe('prune of the on-call tables', () => {
  it('ages out feed items, settled edits, alert state and finished actions; keeps what is still waiting', () => {
    const s = open(':memory:');
    const now = T0 + 100 * DAY;
    const old = now - 91 * DAY;
    const items = new FeedItems(s);
    items.add([{ key: 'session:old', kind: 'session', sessionId: 'old', region: 'r', channel: 'C', postKey: 'p-old', shown: null, live: false }], 0, old);
    items.add([{ key: 'session:new', kind: 'session', sessionId: 'new', region: 'r', channel: 'C', postKey: 'p-new', shown: null, live: true }], 0, now);
    const updates = new MessageUpdates(s);
    updates.put('done-old', 'C', { text: 'x', blocks: [] }, old);
    updates.markSent('done-old', 1);
    updates.put('pending-old', 'C', { text: 'y', blocks: [] }, old);
    const audit = new ActionAudit(s);
    const finished = audit.record({ action: 'stop-calculation', target: 'c-old', sessionId: 's', calculationId: 'c-old', region: 'r', userId: 'U', postKey: null }, 'started', null, old);
    audit.finish(finished.record.id, 'done', 'ok', old);
    audit.record({ action: 'stop-calculation', target: 'c-started', sessionId: 's', calculationId: 'c-started', region: 'r', userId: 'U', postKey: null }, 'started', null, old);
    s.prune(now, 90);
    expect(items.get('session:old')).toBeUndefined();
    expect(items.get('session:new')).toBeDefined();
    expect(updates.get('done-old')).toBeUndefined();
    expect(updates.get('pending-old')).toBeDefined();
    expect(audit.get(finished.record.id)).toBeUndefined();
    expect(audit.unfinished().map((r) => r.target)).toEqual(['c-started']);
  });
});
