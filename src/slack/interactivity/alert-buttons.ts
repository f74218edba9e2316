import type { Config } from '../../config/config.js';
import { isWellFormedSessionId } from '../../records/athena-events.js';
import { ALERT_ACTION, type ActionButtonValue, type SnoozeChoice } from '../../reports/alert-document.js';
import { formatTime } from '../../reports/document.js';
import type { AthenaActions } from '../../sources/athena/actions.js';
import type { ActionKind } from '../../store/action-audit.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { AlertManager } from '../alerts/alert-manager.js';
import { isAllowed, refusalText } from '../report-service.js';

/** A button press, as the interaction payload says it. */
export interface Press {
  actionId: string;
  value: string | undefined;
  userId: string;
  /** Where the message with the button is. */
  channel: string | undefined;
  messageTs: string | undefined;
}

/** Reads a block_actions payload's first action; undefined when it is not a press this app can read. */
export function readPress(body: unknown): Press | undefined {
  const b = body as {
    type?: string;
    user?: { id?: unknown };
    channel?: { id?: unknown };
    container?: { channel_id?: unknown; message_ts?: unknown };
    message?: { ts?: unknown };
    actions?: Array<{ action_id?: unknown; value?: unknown }>;
  };
  const action = b?.actions?.[0];
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 2000 ? v : undefined);
  const userId = str(b?.user?.id);
  const actionId = str(action?.action_id);
  if (b?.type !== 'block_actions' || !userId || !actionId) return undefined;
  return {
    actionId,
    value: str(action?.value),
    userId,
    channel: str(b.container?.channel_id) ?? str(b.channel?.id),
    messageTs: str(b.container?.message_ts) ?? str(b.message?.ts),
  };
}

const SNOOZES: Record<string, SnoozeChoice> = {
  [ALERT_ACTION.snooze['1h']]: '1h',
  [ALERT_ACTION.snooze['4h']]: '4h',
  [ALERT_ACTION.snooze['24h']]: '24h',
};

/** A Stop or Terminate button's value, checked: well-formed ids only. */
export function readActionValue(value: string | undefined): ActionButtonValue | undefined {
  if (!value) return undefined;
  try {
    const v = JSON.parse(value) as { s?: unknown; c?: unknown };
    if (typeof v.s !== 'string' || !isWellFormedSessionId(v.s)) return undefined;
    if (v.c !== undefined && (typeof v.c !== 'string' || !isWellFormedSessionId(v.c))) return undefined;
    return { sessionId: v.s.toLowerCase(), ...(typeof v.c === 'string' ? { calculationId: v.c } : {}) };
  } catch {
    return undefined;
  }
}

export interface AlertButtonsOptions {
  config: Config;
  alerts: AlertManager;
  /** Stop / Terminate through Athena; absent when the bot has no AWS region. */
  actions?: AthenaActions;
  clock: Clock;
  logger: Logger;
}

const NOT_MATCHING = 'That button does not match this alert message; nothing was done.';

/**
 * What the alert buttons do (SPEC §5), apart from Slack's plumbing: who may press what, checked
 * against the message the button is on; Acknowledge and Snooze change the alert; Stop and
 * Terminate go to Athena only for users in ACTION_USER_IDS (anyone else is refused and nothing
 * is called). Returns the short line to show the presser alone, or undefined when the message
 * itself (or its thread) says it all.
 */
export class AlertButtons {
  constructor(private readonly o: AlertButtonsOptions) {}

  async handle(press: Press): Promise<string | undefined> {
    const { logger } = this.o;
    const id = press.actionId;
    if (id === ALERT_ACTION.console || id === ALERT_ACTION.sparkUi) return undefined; // a link: Slack opened it
    const snooze = SNOOZES[id];
    const kind: ActionKind | undefined =
      id === ALERT_ACTION.acknowledge ? 'acknowledge' : snooze ? 'snooze' : id === ALERT_ACTION.stopCalculation ? 'stop-calculation' : id === ALERT_ACTION.terminateSession ? 'terminate-session' : undefined;
    if (!kind) {
      logger.warn({ actionId: id.slice(0, 80), user: press.userId }, 'button press with an unknown action id');
      return 'That button is not one this bot knows (perhaps from an older version); nothing was done.';
    }
    const alert = press.channel && press.messageTs ? this.o.alerts.alertAt(press.channel, press.messageTs) : undefined;
    if (!alert) {
      logger.warn({ actionId: id, user: press.userId, channel: press.channel, ts: press.messageTs }, 'button press on a message that is not a known alert');
      return 'This bot does not know that alert message (it may have aged out); nothing was done.';
    }
    if (kind === 'acknowledge' || kind === 'snooze') {
      if (press.value !== alert.postKey) {
        logger.warn({ actionId: id, user: press.userId, postKey: alert.postKey }, 'button value does not match its alert message');
        return NOT_MATCHING;
      }
      if (!isAllowed(this.o.config, press.userId, press.channel ?? '')) return refusalText();
      return kind === 'acknowledge' ? this.acknowledge(alert.postKey, press.userId) : this.snooze(alert.postKey, press.userId, snooze!);
    }
    return this.act(kind, press, alert.postKey);
  }

  private acknowledge(postKey: string, user: string): string | undefined {
    const r = this.o.alerts.acknowledge(postKey, user);
    if (r.kind === 'already') return `Already acknowledged by <@${r.by}> at ${this.time(r.at)}.`;
    if (r.kind === 'unknown') return 'This bot does not know that alert; nothing was done.';
    return undefined;
  }

  private snooze(postKey: string, user: string, choice: SnoozeChoice): string {
    const r = this.o.alerts.snooze(postKey, user, choice);
    if (r.kind === 'already') return `Already snoozed until ${this.time(r.until)} by <@${r.by}>.`;
    if (r.kind === 'unknown') return 'This bot does not know that alert; nothing was done.';
    return `Snoozed until ${this.time(r.until)}: no new alert or reminder for its sessions until then.`;
  }

  private async act(kind: 'stop-calculation' | 'terminate-session', press: Press, postKey: string): Promise<string | undefined> {
    const { config, alerts, logger } = this.o;
    if (!config.actions.enabled) {
      logger.warn({ actionId: press.actionId, user: press.userId }, 'Stop/Terminate pressed while ACTIONS_ENABLED is off');
      return 'Actions are off for this bot (ACTIONS_ENABLED=false); nothing was done.';
    }
    const value = readActionValue(press.value);
    // Checked against the alert's own rows (what it was posted about), not against the button.
    const row =
      value &&
      alerts.states
        .calculations(postKey)
        .find((c) => c.sessionId === value.sessionId && (kind === 'terminate-session' || (value.calculationId !== undefined && c.calculationId === value.calculationId)));
    if (!value || !row) {
      logger.warn({ actionId: press.actionId, user: press.userId, postKey, value: press.value?.slice(0, 200) }, 'Stop/Terminate value does not name a calculation or session of this alert');
      return NOT_MATCHING;
    }
    const request = {
      action: kind,
      target: kind === 'stop-calculation' ? row.calculationId : row.sessionId,
      sessionId: row.sessionId,
      calculationId: kind === 'stop-calculation' ? row.calculationId : null,
      region: row.region,
      userId: press.userId,
      postKey,
    };
    if (!config.actions.userIds.includes(press.userId)) {
      alerts.audit.record(request, 'forbidden', 'not in ACTION_USER_IDS', this.o.clock.now());
      logger.warn({ action: kind, target: request.target, user: press.userId }, 'Stop/Terminate refused: user not in ACTION_USER_IDS');
      return 'Only the people in ACTION_USER_IDS may stop calculations or terminate sessions from Slack; nothing was done.';
    }
    if (!this.o.actions) return 'Athena is not configured for this bot (no AWS region), so it cannot act; nothing was done.';
    const { record, duplicate } = await this.o.actions.run(request);
    // A second press changed nothing: the message and the thread already say it all.
    if (!duplicate) {
      alerts.recordActionReplies();
      alerts.refresh(postKey);
    }
    if (duplicate) return `Already asked by <@${record.userId}> at ${this.time(record.requestedAt)}: ${record.status === 'started' ? 'Athena is being asked' : (record.outcome ?? record.status)}.`;
    if (record.status === 'noop') return `Nothing to do: ${record.outcome}.`;
    // Refused or failed: the thread has it for everyone; the presser also sees it at once.
    if (record.status === 'denied' || record.status === 'failed') return record.outcome ?? record.status;
    return undefined;
  }

  private time(t: number): string {
    return formatTime(t, this.o.config.digest.timezone);
  }
}
