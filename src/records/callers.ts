import type { NotebookEvent } from './types.js';

/**
 * Who is "us" (SPEC §2): the bot's own calls and those of principals the operator listed in
 * IGNORE_PRINCIPALS (other monitors doing the same reads) are not the sessions' history.
 */
export interface CallerRules {
  /** Exact principal ARNs the bot has run as (learned from STS GetCallerIdentity at start). */
  botPrincipals: readonly string[];
  /** IGNORE_PRINCIPALS: ARNs of users, roles or assumed roles, or role-session names. */
  ignorePrincipals: readonly string[];
}

export const NO_CALLER_RULES: CallerRules = { botPrincipals: [], ignorePrincipals: [] };

/** Why a record is set apart: the bot made it, or an ignored principal did. */
export type SetApartReason = 'bot' | 'ignored';

/** `arn:aws:iam::<acct>:role/<path/>Name` → the prefix every session of that role's ARN starts with. */
function assumedRolePrefix(roleArn: string): string | undefined {
  const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/` : undefined;
}

/**
 * Compiles caller rules into a fast test. A call that changed something (a successful call
 * that is not read-only: a Slack action's TerminateSession, another tool's StopCalculation…)
 * is history whoever made it, so it is never set apart: only reads and refused calls are.
 */
export function callerClassifier(rules: CallerRules): (e: Pick<NotebookEvent, 'principal' | 'principalArn' | 'readOnly' | 'errorCode' | 'botAgent'>) => SetApartReason | null {
  const bot = new Set(rules.botPrincipals);
  const exactArns = new Set<string>();
  const rolePrefixes: string[] = [];
  const names = new Set<string>();
  for (const p of rules.ignorePrincipals) {
    if (!p.startsWith('arn:')) names.add(p);
    else {
      exactArns.add(p);
      const prefix = assumedRolePrefix(p);
      if (prefix) rolePrefixes.push(prefix);
    }
  }
  return (e) => {
    if (!e.readOnly && e.errorCode === null) return null;
    if (e.botAgent || (e.principalArn !== null && bot.has(e.principalArn))) return 'bot';
    if (names.has(e.principal)) return 'ignored';
    if (e.principalArn !== null && (exactArns.has(e.principalArn) || rolePrefixes.some((p) => e.principalArn!.startsWith(p)))) return 'ignored';
    return null;
  };
}

/** Routine reads: successful read-only calls (status polls), most of a busy trail. Counted, never shown. */
export function isRoutineRead(e: Pick<NotebookEvent, 'readOnly' | 'errorCode' | 'eventName'>): boolean {
  // GetSessionEndpoint hands out Spark Connect credentials: someone is using the session.
  return e.readOnly && e.errorCode === null && e.eventName !== 'GetSessionEndpoint';
}
