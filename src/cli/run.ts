import { AppError, UsageError } from '../util/errors.js';
import { PROGRAM, type CliIO } from './io.js';
import type { DigestPoster } from './commands/digest.js';

export const USAGE = `usage: ${PROGRAM} <command>

commands:
  start                         poll CloudTrail, run the Slack app, digests and alerts until stopped
  poll --once                   one poll cycle of every region, then exit
  ingest FILE...                import CloudTrail files (S3 log files, LookupEvents output, arrays, JSON Lines;
                                .json or .json.gz; directories of them)
  ingest s3://BUCKET/PREFIX [--since YYYY-MM-DD] [--until YYYY-MM-DD]
                                import a trail straight from S3 (resumable: objects read before are skipped)
  session ID [--json]           report on one Athena session (no ID: sessions active now)
  digest [--date YYYY-MM-DD] [--week] [--json] [--post] [--chart FILE.png]
                                the digest of one day (default: yesterday in DIGEST_TIMEZONE),
                                or of the 7 days ending it; --chart writes its chart as PNG
  demo                          load sample records into a temporary store and show the reports

configuration comes from the environment and .env (see .env.example).`;

export interface Commands {
  start?: (argv: string[], io: CliIO) => Promise<number>;
  postDigest?: DigestPoster;
}

/** Runs one command; returns its exit status. Errors become one line on standard error. */
export async function run(argv: string[], io: CliIO, extra: Commands = {}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // Each command loads what it needs when it runs: start-up is what a person at a terminal feels.
    switch (command) {
      case 'session':
        return await (await import('./commands/session.js')).sessionCommand(rest, io);
      case 'digest':
        return await (await import('./commands/digest.js')).digestCommand(rest, io, extra.postDigest);
      case 'ingest':
        return await (await import('./commands/ingest.js')).ingestCommand(rest, io);
      case 'poll':
        return await (await import('./commands/poll.js')).pollCommand(rest, io);
      case 'demo':
        return await (await import('./commands/demo.js')).demoCommand(rest, io);
      case 'start':
        if (!extra.start) throw new UsageError('start is not available in this build');
        return await extra.start(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE + '\n');
        return 0;
      case undefined:
        io.stderr.write(USAGE + '\n');
        return 2;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))}; run "${PROGRAM} help" for the list`);
    }
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIO): number {
  if (err instanceof AppError) {
    io.stderr.write(`${PROGRAM}: ${err.message}\n`);
    return err.exitCode;
  }
  const code = (err as { code?: string })?.code;
  // node:util parseArgs signals bad flags with these codes.
  if (code && code.startsWith('ERR_PARSE_ARGS')) {
    io.stderr.write(`${PROGRAM}: ${(err as Error).message}\n`);
    return 2;
  }
  io.stderr.write(`${PROGRAM}: ${(err as Error)?.message ?? String(err)}\n`);
  return 1;
}
