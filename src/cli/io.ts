import type { Clock } from '../util/clock.js';

/** Everything a command touches outside itself, so tests can run commands in-process. */
export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  clock: Clock;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal?: AbortSignal;
}

export const PROGRAM = 'athena-session-bot';
