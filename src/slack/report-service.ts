import type { Config } from '../config/config.js';
import { activeSessions } from '../reports/active-sessions.js';
import { activeSessionsDocument, sessionDocument } from '../reports/session-document.js';
import { buildSessionReport } from '../reports/session-report.js';
import { renderBlockKit, type SlackMessage } from '../reports/render/block-kit.js';
import { locateSession, notFoundMessage } from '../sources/locate-session.js';
import type { Runtime } from '../runtime/runtime.js';
import { isWellFormedSessionId } from '../records/athena-events.js';
import type { Clock } from '../util/clock.js';
import { withDeadline } from '../util/deadline.js';

export const USAGE_TEXT =
  'Usage: `/athena-session <session-id>` for a report (add `public` to post it in the channel), or `/athena-session` alone for the sessions active now. A session id looks like `a2c1ebba-ad01-865f-ed2d-a142b7451f7e`.';

const ID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export type ParsedRequest =
  | { kind: 'active'; public: boolean }
  | { kind: 'session'; sessionId: string; public: boolean }
  | { kind: 'help' }
  | { kind: 'malformed'; text: string };

/** Parses slash-command text: `<id> [public]`, `public`, `help`, or nothing. */
export function parseCommandText(text: string): ParsedRequest {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const isPublic = words.length > 0 && words[words.length - 1]!.toLowerCase() === 'public';
  const rest = isPublic ? words.slice(0, -1) : words;
  if (rest.length === 0) return { kind: 'active', public: isPublic };
  if (rest.length === 1 && ['help', '-h', '--help'].includes(rest[0]!.toLowerCase())) return { kind: 'help' };
  if (rest.length === 1 && isWellFormedSessionId(rest[0]!)) return { kind: 'session', sessionId: rest[0]!.toLowerCase(), public: isPublic };
  return { kind: 'malformed', text: text.trim() };
}

/** Finds a session id anywhere in a mention (`@bot what about a2c1ebba-…?`). */
export function sessionIdInMention(text: string): string | undefined {
  return ID_ANYWHERE.exec(text.replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, ' '))?.[0]?.toLowerCase();
}

export function malformedText(text: string): string {
  const shown = text.length > 80 ? text.slice(0, 80) + '…' : text;
  return `That is not a session id: \`${shown.replace(/`/g, "'")}\`. ${USAGE_TEXT}`;
}

export function refusalText(): string {
  return 'Sorry, this command is not available to you in this channel. Ask an admin to add you or the channel to the allowlist.';
}

/** Whether a user in a channel may use the bot (SPEC §3 allowlists; unset = everyone). */
export function isAllowed(config: Pick<Config, 'allowedChannelIds' | 'allowedUserIds'>, userId: string, channelId: string): boolean {
  if (config.allowedUserIds && !config.allowedUserIds.includes(userId)) return false;
  if (config.allowedChannelIds && !config.allowedChannelIds.includes(channelId)) return false;
  return true;
}

/**
 * Builds Slack answers from the same report builders as the CLI. Heavy work is serialised
 * through a queue that yields to the event loop between jobs, so a burst of commands is
 * acknowledged at once and answered in turn.
 */
export class ReportService {
  private chain: Promise<unknown> = Promise.resolve();
  private lastArrival = 0;

  constructor(
    private readonly rt: Pick<Runtime, 'config' | 'store' | 'targets' | 'cloudTrail' | 'enricher' | 'logger' | 'metrics'>,
    private readonly clock: Clock,
  ) {}

  /** Called as each command or mention arrives: reports wait while a burst is being acknowledged. */
  noteArrival(): void {
    this.lastArrival = Date.now();
  }

  /** Runs `job` after the jobs before it, each in its own macrotask, once arrivals pause. */
  enqueue<T>(job: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(() => this.arrivalsPaused()).then(job);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Building a report is CPU work on the one thread that also reads and acknowledges incoming
   * requests; during a burst it waits until no command has arrived for 20 ms (at most 250 ms
   * per job), so every acknowledgement goes out first.
   */
  private async arrivalsPaused(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    const deadline = Date.now() + 250;
    while (Date.now() - this.lastArrival < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  knows(sessionId: string): boolean {
    return this.rt.store.sessionKnown(sessionId);
  }

  /** The session report, looking the id up in CloudTrail first when the store has never seen it. */
  async sessionMessage(sessionId: string): Promise<{ found: boolean; message: SlackMessage }> {
    const located = await locateSession({ ...this.rt, clock: this.clock }, sessionId);
    if (!located.known) {
      const text = notFoundMessage(sessionId, located);
      return { found: false, message: { text: text.charAt(0).toUpperCase() + text.slice(1) + '.', blocks: [] } };
    }
    const now = this.clock.now();
    const report = buildSessionReport(this.rt.store, sessionId, this.model(now), undefined, located.athenaReachable)!;
    return { found: true, message: renderBlockKit(sessionDocument(report, this.display(now))) };
  }

  async activeMessage(): Promise<SlackMessage> {
    // Athena's own list first (it knows sessions CloudTrail has not delivered yet), briefly.
    if (this.rt.enricher) await withDeadline(this.rt.enricher.refreshActive(this.rt.targets), 5000, false);
    const now = this.clock.now();
    return renderBlockKit(activeSessionsDocument(activeSessions(this.rt.store, this.model(now)), this.display(now)));
  }

  private model(now: number) {
    return { now, longRunningMinutes: this.rt.config.longRunningMinutes, dpuHourPriceUsd: this.rt.config.dpuHourPriceUsd };
  }

  private display(now: number) {
    return { timezone: this.rt.config.digest.timezone, showCallerDetails: this.rt.config.showCallerDetails, now };
  }
}
