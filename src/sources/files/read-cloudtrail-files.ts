/**
 * Streams the elements of CloudTrail files (S3 log files, LookupEvents output; plain or
 * gzipped) as batches of raw JSON text.
 *
 * Two read paths, same results:
 *  - small files (≤ 1 MiB on disk, the usual S3 delivery size) are read whole and gunzipped
 *    (on the libuv pool) a few files ahead of the scanner, so per-file latency (open, read,
 *    inflate, close) overlaps with scanning instead of adding up; the decompressed size is
 *    capped, beyond which the file falls back to the streaming path;
 *  - other files are streamed in 1 MiB chunks through gunzip, with bounded read-ahead.
 * A small file whose gzip data is damaged is re-read through the streaming path, so the
 * elements before the damage are still emitted.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, type Readable, type TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import { CloudTrailJsonScanner, DEFAULT_MAX_ELEMENT_BYTES } from './json-array-stream.js';
import { fsErrorReason, listCloudTrailFiles } from './list-files.js';
import type { ListedFile, RawBatch, ReadOptions, ReadProgress } from './types.js';

const READ_CHUNK = 1024 * 1024;
/** gunzip output chunk size: big chunks keep per-chunk overhead negligible. */
const GUNZIP_CHUNK = 256 * 1024;
/** How much decompressed output streaming gunzip may run ahead of the scanner. */
const GUNZIP_AHEAD = 4 * 1024 * 1024;
/** Files up to this size on disk are read whole, ahead of time. */
const SMALL_FILE_BYTES = 1024 * 1024;
/** Decompressed size cap for a small file read whole; beyond it the file is streamed. */
const SMALL_FILE_MAX_OUTPUT = 16 * 1024 * 1024;
/** Small files loaded ahead of the one being scanned (memory ≤ this × SMALL_FILE_MAX_OUTPUT). */
const LOOKAHEAD_FILES = 4;
const PROGRESS_INTERVAL_MS = 100;
const DEFAULT_BATCH_SIZE = 1000;

/** Options not in the public ReadOptions (tests only). */
interface InternalOptions extends ReadOptions {
  /** Files up to this size are read whole and ahead; 0 streams every file. */
  smallFileBytes?: number;
}

class ProgressReporter {
  private filesDone = 0;
  private doneBytes = 0;
  private last = -Infinity;
  private readonly filesTotal: number;
  private readonly bytesTotal: number;

  constructor(
    files: ListedFile[],
    private readonly cb: ((p: ReadProgress) => void) | undefined,
  ) {
    this.filesTotal = files.length;
    this.bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
  }

  /** `current`: on-disk bytes read so far from the file in progress. Throttled. */
  tick(current: number): void {
    if (!this.cb) return;
    const now = performance.now();
    if (now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.emit(current);
  }

  /** A file is finished, completely or not: it counts as fully read. */
  fileDone(size: number, actuallyRead: number): void {
    this.filesDone++;
    this.doneBytes += Math.max(size, actuallyRead);
    this.tick(0);
  }

  final(): void {
    this.emit(0);
  }

  private emit(current: number): void {
    this.cb?.({
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesRead: this.doneBytes + current,
      bytesTotal: this.bytesTotal,
    });
  }
}

/** An error from gunzip or from reading a file, as a problem reason. */
function streamErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) return `gzip: ${(err as Error).message}`;
  return fsErrorReason(err);
}

function isGzipMagic(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

// ---- small files: read whole, ahead of time ------------------------------------------------

type Loaded =
  | { kind: 'chunks'; chunks: Buffer[]; bytesRead: number }
  | { kind: 'stream' } // too big once inflated, grew, or damaged gzip: use the streaming path
  | { kind: 'problem'; reason: string };

/** Inflate a whole gzip buffer; null if it is damaged or inflates beyond `maxOutput`. */
function gunzipWhole(data: Buffer, maxOutput: number): Promise<Buffer[] | null> {
  return new Promise((resolve) => {
    // The gzip trailer's ISIZE is the inflated size (mod 2^32, of the last member): sizing the
    // output buffer from it usually inflates the whole file in one pass on the libuv pool.
    const isize = data.length >= 18 ? data.readUInt32LE(data.length - 4) : 0;
    if (isize > maxOutput) return resolve(null);
    const chunkSize = Math.min(maxOutput + 1, Math.max(64 * 1024, isize + 1));
    const gz = zlib.createGunzip({ chunkSize });
    const out: Buffer[] = [];
    let total = 0;
    gz.on('data', (c: Buffer) => {
      total += c.length;
      if (total > maxOutput) {
        gz.destroy();
        resolve(null);
      } else {
        out.push(c);
      }
    });
    gz.on('error', () => resolve(null));
    gz.on('end', () => resolve(out));
    gz.end(data);
  });
}

/** Never rejects. */
async function loadSmallFile(file: string, size: number): Promise<Loaded> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    return { kind: 'problem', reason: fsErrorReason(err) };
  }
  try {
    // One read for the listed size (CloudTrail files are written once; a file that grew
    // since the listing is read up to its listed size, like a file truncated on disk).
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const data = buf.subarray(0, got);
    if (!isGzipMagic(data)) return { kind: 'chunks', chunks: [data], bytesRead: got };
    const inflated = await gunzipWhole(data, SMALL_FILE_MAX_OUTPUT);
    return inflated ? { kind: 'chunks', chunks: inflated, bytesRead: got } : { kind: 'stream' };
  } catch (err) {
    return { kind: 'problem', reason: streamErrorReason(err) };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

// ---- large files: stream ---------------------------------------------------------------------

/** Plain file: sequential reads with one read always in flight ahead of the consumer. */
async function* plainChunks(fh: FileHandle, chunkSize: number, counter: { bytes: number }): AsyncGenerator<Buffer> {
  let position = 0;
  const readAt = async (pos: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(chunkSize);
    const { bytesRead } = await fh.read(buf, 0, chunkSize, pos);
    return bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead);
  };
  let pending = readAt(0);
  try {
    for (;;) {
      const chunk = await pending;
      if (chunk.length === 0) return;
      position += chunk.length;
      counter.bytes = position;
      pending = readAt(position);
      yield chunk;
    }
  } finally {
    pending.catch(() => undefined); // consumer stopped early: don't leave a rejection unobserved
  }
}

/** Gzipped file: fs stream → gunzip (on the libuv pool, running ahead up to GUNZIP_AHEAD). */
async function* gzipChunks(fh: FileHandle, chunkSize: number, counter: { bytes: number }): AsyncGenerator<Buffer> {
  const src = fh.createReadStream({ start: 0, highWaterMark: READ_CHUNK, autoClose: false });
  // zlib passes stream options through to its Transform; the typings only list zlib's own.
  const gzOptions: zlib.ZlibOptions & TransformOptions = {
    chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(GUNZIP_CHUNK, chunkSize)),
    readableHighWaterMark: GUNZIP_AHEAD,
  };
  const gz = zlib.createGunzip(gzOptions);
  pipeline(src, gz, () => undefined); // errors surface through iterating `gz`
  try {
    for await (const c of gz as AsyncIterable<Buffer>) {
      counter.bytes = src.bytesRead;
      yield c;
    }
  } finally {
    gz.destroy();
    (src as Readable).destroy();
  }
}

// ---- shared ----------------------------------------------------------------------------------

/** Split chunks bigger than `max` (only with the testing `chunkSize` knob). */
async function* rechunk(source: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; i += max) yield chunk.subarray(i, Math.min(chunk.length, i + max));
  }
}

async function* fromArray(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

interface Context {
  batchSize: number;
  chunkSize: number;
  maxElementBytes: number;
  opts: ReadOptions;
  progress: ProgressReporter;
}

/**
 * Scan one file's chunks, yielding batches; report at most one problem for the file, after
 * its good elements. Only errors of the chunk source (I/O, gunzip) count as file problems;
 * anything thrown by the scanner or by callbacks is a programmer error and propagates.
 */
async function* scanFile(
  file: string,
  source: AsyncIterable<Buffer>,
  counter: { bytes: number },
  ctx: Context,
): AsyncGenerator<RawBatch, void> {
  let batch: string[] = [];
  const ready: string[][] = [];
  const { batchSize } = ctx;
  const scanner = new CloudTrailJsonScanner(
    (text) => {
      batch.push(text);
      if (batch.length >= batchSize) {
        ready.push(batch);
        batch = [];
      }
    },
    { maxElementBytes: ctx.maxElementBytes },
  );
  if (ctx.chunkSize < GUNZIP_CHUNK) source = rechunk(source, ctx.chunkSize);

  let streamProblem: string | null = null;
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (err) {
        streamProblem = streamErrorReason(err);
        finished = true;
        break;
      }
      if (r.done) {
        finished = true;
        break;
      }
      const ok = scanner.write(r.value);
      while (ready.length > 0) yield { file, format: scanner.format!, items: ready.shift()! };
      ctx.progress.tick(counter.bytes);
      if (!ok) break;
    }
  } finally {
    if (!finished) await it.return?.(undefined);
  }
  if (batch.length > 0) {
    const items = batch;
    batch = [];
    yield { file, format: scanner.format!, items };
  }
  const reason = streamProblem ?? scanner.end();
  if (reason !== null) ctx.opts.onProblem?.({ file, reason });
}

/** The streaming path for one file. */
async function* streamFile(file: string, counter: { bytes: number }, ctx: Context): AsyncGenerator<RawBatch, void> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    ctx.opts.onProblem?.({ file, reason: fsErrorReason(err) });
    return;
  }
  try {
    let gzipped: boolean;
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      gzipped = isGzipMagic(head.subarray(0, bytesRead));
    } catch (err) {
      ctx.opts.onProblem?.({ file, reason: streamErrorReason(err) });
      return;
    }
    const readChunk = Math.min(READ_CHUNK, ctx.chunkSize);
    const chunks = gzipped ? gzipChunks(fh, ctx.chunkSize, counter) : plainChunks(fh, readChunk, counter);
    yield* scanFile(file, chunks, counter, ctx);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Stream the `Records`/`Events` elements of CloudTrail files as batches of raw JSON text
 * (at most `batchSize` per batch, one file per batch, in file order). Bad files are reported
 * through `onProblem` (after their good elements are emitted) and never stop the iteration.
 * See `listCloudTrailFiles` for how paths are expanded.
 */
export async function* readCloudTrailFiles(paths: string[], opts: ReadOptions = {}): AsyncGenerator<RawBatch> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const chunkSize = opts.chunkSize ?? READ_CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const smallFileBytes = (opts as InternalOptions).smallFileBytes ?? SMALL_FILE_BYTES;

  const files = await listCloudTrailFiles(paths, opts);
  const progress = new ProgressReporter(files, opts.onProgress);
  const ctx: Context = { batchSize, chunkSize, maxElementBytes: opts.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES, opts, progress };
  progress.tick(0);

  // Small files are loaded a few ahead of the one being scanned.
  const loads = new Map<number, Promise<Loaded>>();
  let nextToLoad = 0;
  const fillWindow = (current: number): void => {
    nextToLoad = Math.max(nextToLoad, current);
    while (nextToLoad < files.length && nextToLoad <= current + LOOKAHEAD_FILES) {
      const f = files[nextToLoad]!;
      if (f.size <= smallFileBytes) loads.set(nextToLoad, loadSmallFile(f.file, f.size));
      nextToLoad++;
    }
  };

  for (let k = 0; k < files.length; k++) {
    const { file, size } = files[k]!;
    fillWindow(k);
    const load = loads.get(k);
    loads.delete(k);
    const counter = { bytes: 0 };
    const loaded = load ? await load : ({ kind: 'stream' } as const);
    if (loaded.kind === 'problem') {
      opts.onProblem?.({ file, reason: loaded.reason });
    } else if (loaded.kind === 'chunks') {
      counter.bytes = loaded.bytesRead;
      yield* scanFile(file, fromArray(loaded.chunks), counter, ctx);
    } else {
      yield* streamFile(file, counter, ctx);
    }
    progress.fileDone(size, counter.bytes);
  }
  progress.final();
}
