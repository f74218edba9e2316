import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { awsEnvFor, type AwsFake } from '../fakes/aws-fake.js';
import { Store } from '../../src/store/store.js';

/** Points the AWS SDK at a fake through the environment, as a user would; returns a restorer. */
export function useAwsFakeEnv(fake: AwsFake, region = 'us-east-1'): () => void {
  const env = awsEnvFor(fake, region);
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** A controllable clock for the domain (rate limits always run on real time). */
export class TestClock {
  constructor(public t: number) {}
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function tempDir(prefix = 'asb-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function tempStore(): { store: Store; file: string; dir: string } {
  const dir = tempDir();
  const file = path.join(dir, 'test.sqlite');
  return { store: Store.open(file), file, dir };
}

/** A pino logger that keeps every line, so tests can assert what was (and was not) logged. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level }, stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
