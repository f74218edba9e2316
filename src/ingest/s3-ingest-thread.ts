/**
 * The coordinator of an `ingest s3://` in a thread of its own: lists the trail, fetches its
 * objects and hands them to the reader threads. It exists for its heap: the AWS SDK's
 * per-request garbage made the main thread's heap grow to ~120 MB (V8 sizes the main thread's
 * young generation at 48 MB and collects its old one late); a worker's can be bounded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { AppError } from '../util/errors.js';
import { systemClock } from '../util/clock.js';
import { ingestS3 } from './ingest-s3.js';
import type { FromS3Thread, S3ThreadData, ToS3Thread } from './thread-protocol.js';

if (!parentPort) throw new Error('s3-ingest-thread runs as a worker thread');
const port = parentPort;
// As in main.ts: dependency warnings (the AWS SDK's Node version notice) are not printed.
process.removeAllListeners('warning');
process.on('warning', () => undefined);
const { databasePath, location, range, s3 } = workerData as S3ThreadData;
const send = (m: FromS3Thread) => port.postMessage(m);
const stop = new AbortController();
port.on('message', (m: ToS3Thread) => {
  if (m.kind === 'stop') stop.abort();
});

/** Malformed records are reported in batches: a trail of garbage must not mean a message per record. */
const REJECTED_BATCH = 1000;
let rejected: Array<[string, string]> = [];
const sendRejected = () => {
  if (rejected.length) send({ kind: 'rejected', rejected });
  rejected = [];
};

let store: Store | undefined;
try {
  store = Store.open(databasePath);
  const result = await ingestS3(location, {
    store,
    clock: systemClock,
    range,
    s3,
    signal: stop.signal,
    onProgress: (progress) => {
      sendRejected();
      send({ kind: 'progress', progress });
    },
    onProblem: (problem) => send({ kind: 'problem', problem }),
    onRejected: (reason, file) => {
      rejected.push([reason, file]);
      if (rejected.length >= REJECTED_BATCH) sendRejected();
    },
  });
  sendRejected();
  send({ kind: 'result', result });
} catch (err) {
  sendRejected();
  const e = err as Error;
  send({ kind: 'failed', message: e.message, name: e.name, exitCode: err instanceof AppError ? err.exitCode : undefined });
} finally {
  store?.close();
  port.close();
}
