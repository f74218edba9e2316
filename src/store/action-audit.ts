import type { Store } from './store.js';

/** What a person asked for with an alert's buttons. */
export type ActionKind = 'stop-calculation' | 'terminate-session' | 'acknowledge' | 'snooze';

/**
 * How it went: `started` (Athena is being asked, or the bot died while asking), `done`, `noop`
 * (it had already ended: nothing was called), `forbidden` (the user may not: nothing was called),
 * `denied` (Athena refused the bot), `failed`, `unknown` (interrupted, and Athena could not say).
 */
export type ActionStatus = 'started' | 'done' | 'noop' | 'forbidden' | 'denied' | 'failed' | 'unknown';

export interface ActionRecord {
  id: number;
  action: ActionKind;
  /** The calculation, session or alert post it acts on. */
  target: string;
  sessionId: string | null;
  calculationId: string | null;
  region: string | null;
  userId: string;
  postKey: string | null;
  status: ActionStatus;
  outcome: string | null;
  requestedAt: number;
  finishedAt: number | null;
}

export type ActionRequest = Pick<ActionRecord, 'action' | 'target' | 'sessionId' | 'calculationId' | 'region' | 'userId' | 'postKey'>;

interface Row {
  id: number;
  action: ActionKind;
  target: string;
  session_id: string | null;
  calculation_id: string | null;
  region: string | null;
  user_id: string;
  post_key: string | null;
  status: ActionStatus;
  outcome: string | null;
  requested_at: number;
  finished_at: number | null;
}

const toRecord = (r: Row): ActionRecord => ({
  id: r.id,
  action: r.action,
  target: r.target,
  sessionId: r.session_id,
  calculationId: r.calculation_id,
  region: r.region,
  userId: r.user_id,
  postKey: r.post_key,
  status: r.status,
  outcome: r.outcome,
  requestedAt: r.requested_at,
  finishedAt: r.finished_at,
});

/** Key of the thread reply that reports an action (SPEC §5: every action is written in the thread). */
export const actionReplyKey = (id: number) => `action:${id}`;

/**
 * The audit of Slack actions: who asked for what, when, and how it went. A stop, a terminate or
 * an acknowledgement is recorded once: while one is under way or done, a second press finds it
 * instead of starting another (the store's unique index decides, so a race cannot slip past).
 */
export class ActionAudit {
  constructor(private readonly store: Store) {}

  /**
   * Records a request with its status; for the once-only kinds returns the record already under
   * way or done instead (`existing`), recording nothing.
   */
  record(req: ActionRequest, status: ActionStatus, outcome: string | null, now: number): { record: ActionRecord; existing: boolean } {
    return this.store.write(() => {
      const finished = status === 'started' ? null : now;
      const r = this.store.db
        .prepare(
          `INSERT OR IGNORE INTO slack_actions (action, target, session_id, calculation_id, region, user_id, post_key, status, outcome, requested_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(req.action, req.target, req.sessionId, req.calculationId, req.region, req.userId, req.postKey, status, outcome, now, finished);
      if (r.changes === 1) return { record: this.get(Number(r.lastInsertRowid))!, existing: false };
      return { record: this.activeFor(req.action, req.target)!, existing: true };
    });
  }

  /** The request for this action on this target that is under way or done, if any. */
  activeFor(action: ActionKind, target: string): ActionRecord | undefined {
    const row = this.store.db.prepare(`SELECT * FROM slack_actions WHERE action = ? AND target = ? AND status IN ('started', 'done') ORDER BY id LIMIT 1`).get(action, target) as
      | Row
      | undefined;
    return row && toRecord(row);
  }

  finish(id: number, status: Exclude<ActionStatus, 'started'>, outcome: string, now: number): ActionRecord {
    this.store.write(() => this.store.db.prepare('UPDATE slack_actions SET status = ?, outcome = ?, finished_at = ? WHERE id = ?').run(status, outcome, now, id));
    return this.get(id)!;
  }

  get(id: number): ActionRecord | undefined {
    const row = this.store.db.prepare('SELECT * FROM slack_actions WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** What was done with one alert message, oldest first. */
  forPost(postKey: string): ActionRecord[] {
    return (this.store.db.prepare('SELECT * FROM slack_actions WHERE post_key = ? ORDER BY id').all(postKey) as Row[]).map(toRecord);
  }

  /** Actions still marked as under way (in this process, or interrupted by a crash). */
  unfinished(): ActionRecord[] {
    return (this.store.db.prepare(`SELECT * FROM slack_actions WHERE status = 'started' ORDER BY id`).all() as Row[]).map(toRecord);
  }

  /** Finished stops and terminates whose thread reply has not been recorded yet. */
  withoutReply(): ActionRecord[] {
    return (
      this.store.db
        .prepare(
          `SELECT a.* FROM slack_actions a WHERE a.status NOT IN ('started', 'forbidden', 'noop') AND a.action IN ('stop-calculation', 'terminate-session') AND a.post_key IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM slack_posts p WHERE p.key = 'action:' || a.id) ORDER BY a.id`,
        )
        .all() as Row[]
    ).map(toRecord);
  }
}
