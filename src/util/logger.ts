import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

type Pino = typeof import('pino');

const REDACTED_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'signingSecret',
  '*.signingSecret',
  'appToken',
  '*.appToken',
  'headers.authorization',
  '*.headers.authorization',
  'accessKeyId',
  '*.accessKeyId',
  'secretAccessKey',
  '*.secretAccessKey',
];

/**
 * The program's logger: JSON lines on standard error (standard output is kept for
 * command results). Known secret-bearing fields are censored as a second line of
 * defence; the first is never passing secrets to the logger at all.
 *
 * pino is loaded when the logger is first used: most CLI commands never log, and loading it
 * cost their start-up ~20 ms (measured).
 */
export function createLogger(level: string, destination: NodeJS.WritableStream | number = 2): Logger {
  let real: Logger | undefined;
  const make = (): Logger => {
    const { pino } = createRequire(import.meta.url)('pino') as Pino;
    return pino(
      { level, base: { name: 'athena-session-bot' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
      typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : (destination as DestinationStream),
    );
  };
  return new Proxy({} as Logger, {
    get(_, key) {
      real ??= make();
      const value = Reflect.get(real, key, real) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
    has(_, key) {
      real ??= make();
      return Reflect.has(real, key);
    },
    set(_, key, value) {
      real ??= make();
      return Reflect.set(real, key, value, real);
    },
  });
}

export const silentLogger: Logger = createLogger('silent');
