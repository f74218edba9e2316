/**
 * Operator advice from the bot's own refused calls (SPEC §2): a missing permission is said once,
 * with what it costs, instead of showing up as failed calls nobody made.
 */
import { formatCount } from '../util/number-format.js';

/** What each Athena permission the bot uses buys; without it the answer comes from CloudTrail alone. */
export const ATHENA_PERMISSIONS = {
  GetSession: 'session states, end times and measured DPU-hours',
  ListCalculationExecutions: 'calculation states and run times',
  GetCalculationExecution: 'calculation states and run times',
  ListWorkGroups: 'sessions Athena lists as active before CloudTrail delivers their start',
  ListSessions: 'sessions Athena lists as active before CloudTrail delivers their start',
  GetResourceDashboard: 'Spark UI links',
  StopCalculationExecution: 'the Stop calculation button',
  TerminateSession: 'the Terminate session button',
} as const;

export type AthenaOperation = keyof typeof ATHENA_PERMISSIONS;

const REFUSALS = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

/** Whether an error code means the caller lacks permission. */
export const isRefusal = (errorCode: string | null): boolean => errorCode !== null && REFUSALS.has(errorCode);

export interface Refusal {
  operation: string;
  count: number;
}

/** One line per refused operation: which permission to grant and what granting it buys. */
export function permissionAdvice(refusals: readonly Refusal[]): string[] {
  const byOp = new Map<string, number>();
  for (const r of refusals) byOp.set(r.operation, (byOp.get(r.operation) ?? 0) + r.count);
  return [...byOp]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, count]) => {
      const buys = (ATHENA_PERMISSIONS as Record<string, string>)[op];
      const times = count === 1 ? 'once' : `${formatCount(count)} times`;
      return `answers unconfirmed: grant athena:${op} (the bot was refused it ${times}${buys ? `; it gives ${buys}` : ''})`;
    });
}

/** The one line that explains Athena refusing one of the bot's calls, naming the permission to grant. */
export function refusalAdvice(op: AthenaOperation): string {
  return `Athena refused: the bot is not allowed athena:${op} here (grant it on the workgroup to use ${ATHENA_PERMISSIONS[op]})`;
}
