import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The program's logger: JSON lines on standard error (standard output is kept for
 * command results). Known secret-bearing fields are censored as a second line of
 * defence; the first is never passing secrets to the logger at all.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream | number = 2): Logger {
  return pino(
    {
      level,
      base: { name: 'athena-session-bot' },
      redact: {
        paths: [
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
        ],
        censor: '[redacted]',
      },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : (destination as pino.DestinationStream),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
