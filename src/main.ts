#!/usr/bin/env node
import { config as loadDotenv } from 'dotenv';
import { run } from './cli/run.js';
import { systemClock } from './util/clock.js';

// Standard error carries the program's own lines only: Node's default printing of
// dependency warnings (e.g. the AWS SDK's Node version notice) is switched off.
process.removeAllListeners('warning');
process.on('warning', () => undefined);

// A dependency's stray rejection (seen in @slack/socket-mode's reconnect path) must not take
// the bot down: report it as a log line and carry on.
process.on('unhandledRejection', (reason) => {
  const error = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  process.stderr.write(JSON.stringify({ level: 50, time: Date.now(), name: 'athena-session-bot', error: error.slice(0, 500), msg: 'unhandled rejection (ignored)' }) + '\n');
});

// A reader that goes away (`athena-session-bot digest | head`) ends the command quietly, as
// other command-line tools do, instead of with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

loadDotenv({ quiet: true });

const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, clock: systemClock, stopSignal: stop.signal }, {
    // Bolt and the Slack layer load only for the commands that use them (start-up time).
    start: async (argv, io) => (await import('./cli/commands/start.js')).startCommand(argv, io),
    postDigest: async (rt, date, period) => (await import('./slack/digest/post-digest-command.js')).postDigestCommand(rt, date, period),
  });
process.exitCode = code;
if (process.argv[2] !== 'start') {
  // One-shot commands end here even if an SDK keep-alive socket lingers.
  await new Promise((r) => setTimeout(r, 0).unref());
  process.exit(code);
}
