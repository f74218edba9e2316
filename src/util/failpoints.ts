/**
 * Crash-test failpoints. Inert unless ATHENA_BOT_FAILPOINTS names one, as `name:N` (comma
 * separated): the N-th time execution reaches `name`, the process kills itself with
 * SIGKILL, exactly as if the machine died at that instant. The crash tests use this to hit
 * the windows that matter (mid-page, between commit and cursor move, between a Slack post
 * or edit and its record, between committing pushed records and deleting their messages, between
 * recording a Slack action and asking Athena, and between Athena's answer and its record) deterministically.
 */
import fs from 'node:fs';

const armed = parse(process.env.ATHENA_BOT_FAILPOINTS);
const hits = new Map<string, number>();

function parse(spec: string | undefined): Map<string, number> | undefined {
  if (!spec) return undefined;
  const out = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [name, n] = part.trim().split(':');
    if (name) out.set(name, Math.max(1, Number(n) || 1));
  }
  return out;
}

export const FAILPOINTS = [
  'poll.page-stored',
  'poll.before-cursor',
  'slack.before-send',
  'slack.after-send',
  'slack.after-update',
  'slack.file-upload-started',
  'ingest.rows-written',
  'sqs.before-delete',
  'action.before-call',
  'action.after-call',
] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

export function failpoint(name: FailpointName): void {
  if (!armed) return;
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === at) {
    // Synchronously to fd 2: from a worker thread, process.stderr is relayed by the main thread and would be lost.
    fs.writeSync(2, `failpoint ${name}:${n} reached: SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
