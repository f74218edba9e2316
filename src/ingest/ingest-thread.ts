/**
 * The ingest thread: runs `ingestFiles` on its own connection and reports progress, file
 * problems and malformed records to the main thread. It exists for its heap: a worker's
 * young generation can be bounded (Node's main thread's cannot, short of command-line flags),
 * and a small one keeps the garbage of a million parsed records from being promoted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store, StoreError } from '../store/store.js';
import { systemClock } from '../util/clock.js';
import { ingestFiles } from './ingest-files.js';
import type { FromIngest, IngestThreadData, ToIngest } from './thread-protocol.js';

if (!parentPort) throw new Error('ingest-thread runs as a worker thread');
const port = parentPort;
const { paths, databasePath } = workerData as IngestThreadData;
const send = (m: FromIngest) => port.postMessage(m);
const stop = new AbortController();
port.on('message', (m: ToIngest) => {
  if (m.kind === 'stop') stop.abort();
});

/** Malformed records are reported in batches: a file of garbage must not mean a message per record. */
const REJECTED_BATCH = 1000;
let rejected: Array<[string, string]> = [];
const sendRejected = () => {
  if (rejected.length) send({ kind: 'rejected', rejected });
  rejected = [];
};

let store: Store | undefined;
try {
  store = Store.open(databasePath);
  const result = await ingestFiles(paths, {
    store,
    clock: systemClock,
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
  send({ kind: 'failed', message: (err as Error).message, storeError: err instanceof StoreError });
} finally {
  store?.close();
  port.close();
}
