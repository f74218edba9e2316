/**
 * A reader thread: reads the files or S3 objects it is given (gunzip, scan, prefilter, parse)
 * and sends the rows to the writer thread on its own port. Several run at once, one per core,
 * on disjoint items. It exists for the cores, and for its heap: a worker's young generation
 * can be bounded, and a small one keeps parsing garbage from being promoted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createS3Reader, type S3Reader } from '../sources/s3/index.js';
import { StoreError } from '../store/store.js';
import { systemClock } from '../util/clock.js';
import { createItemReader } from './item-reader.js';
import { portWriter } from './record-writer.js';
import type { FromReader, ReaderThreadData, ToReader } from './thread-protocol.js';

if (!parentPort) throw new Error('reader-thread runs as a worker thread');
// Standard error carries the program's own lines only: as in main.ts, dependency warnings
// (the AWS SDK's Node version notice, when this thread reads S3) are not printed.
process.removeAllListeners('warning');
process.on('warning', () => undefined);
const control = parentPort;
const { port, stop, settings } = workerData as ReaderThreadData;
const stopFlag = new Int32Array(stop);
const send = (m: FromReader) => control.postMessage(m);

let rows = 0;
const writer = portWriter(port, { maxInFlight: settings.maxInFlight, onTaken: (n) => (rows += n) });
let s3: S3Reader | undefined;
const reader = createItemReader({
  writer,
  settings,
  clock: systemClock,
  shouldStop: () => Atomics.load(stopFlag, 0) !== 0,
  s3: () => (s3 ??= createS3Reader(settings.s3!)),
});

// Jobs arrive ahead of time; they are read one after the other.
const queue: ToReader[] = [];
let wake: (() => void) | undefined;
control.on('message', (m: ToReader) => {
  queue.push(m);
  wake?.();
});

try {
  for (;;) {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const m = queue.shift()!;
    if (m.kind === 'end') {
      await reader.finish();
      send({ kind: 'finished', rows });
      break;
    }
    send({ kind: 'done', report: await reader.read(m.items) });
  }
} catch (err) {
  send({ kind: 'failed', message: (err as Error).message, storeError: err instanceof StoreError });
} finally {
  port.close();
  control.close();
}
