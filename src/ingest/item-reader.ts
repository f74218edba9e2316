import { readCloudTrailBytes, readCloudTrailFile, readCloudTrailStream, type FileOutcome, type ReadFileOptions } from '../sources/files/index.js';
import type { S3Reader } from '../sources/s3/index.js';
import type { Clock } from '../util/clock.js';
import { addCounts, ElementParser, emptyCounts, PARSER_FIELDS } from './element-parser.js';
import type { RecordWriter } from './record-writer.js';
import type { IngestedObject, JobReport, ReadItem, ReaderSettings } from './thread-protocol.js';

/** Malformed elements are kept whole until written (each may be megabytes): bound them by size too. */
const MAX_PENDING_REJECTED_CHARS = 16 * 1024 * 1024;
/** S3 objects up to this size are fetched whole, a few ahead of the one being read. */
export const WHOLE_OBJECT_BYTES = 8 * 1024 * 1024;
const PREFETCH_OBJECTS = 6;
const PREFETCH_BYTES = 16 * 1024 * 1024;

export interface ItemReaderDeps {
  writer: RecordWriter;
  settings: ReaderSettings;
  clock: Clock;
  /** Checked between items: true stops the job there. */
  shouldStop: () => boolean;
  /** The S3 client, made on first need (a local-file import never loads the SDK). */
  s3?: () => S3Reader;
}

export interface ItemReader {
  /** Reads a job's items in order, writing rows as they accumulate. */
  read(items: readonly ReadItem[]): Promise<JobReport>;
  /** Writes everything pending and waits until the writer has it. */
  finish(): Promise<void>;
}

export const itemLabel = (item: ReadItem): string => (item.kind === 'file' ? item.file : `s3://${item.bucket}/${item.key}`);

/**
 * Reads local files and S3 objects into the writer: the same work in a reader thread and, for
 * small imports, in the calling thread. Rows go out in messages of `messageRows`; an S3 object
 * read without a problem is remembered after its rows, so the next run can skip it.
 */
export function createItemReader(d: ItemReaderDeps): ItemReader {
  const { settings, writer } = d;
  const parser = new ElementParser({ prefilter: settings.prefilter });
  const fileOptions: ReadFileOptions = { fields: PARSER_FIELDS, smallFileBytes: settings.smallFileBytes, chunkSize: settings.chunkSize };
  const wholeObjectBytes = settings.wholeObjectBytes ?? WHOLE_OBJECT_BYTES;
  let objects: IngestedObject[] = [];

  const flush = async () => {
    const now = d.clock.now();
    if (parser.rowCount > 0) await writer.writeRows(parser.takeRows(), now);
    if (parser.rejections.length > 0) await writer.writeRejections(parser.takeRejections(), now);
    if (objects.length > 0) {
      const done = objects;
      objects = [];
      await writer.writeObjects(done, now);
    }
  };
  const flushIfFull = async () => {
    if (parser.rowCount >= settings.messageRows || parser.rejections.length >= settings.messageRows || parser.rejectedChars >= MAX_PENDING_REJECTED_CHARS) await flush();
  };

  /** Whole-object fetches started ahead of the item being read. Never rejects. */
  type Fetched = { bytes: Buffer } | { error: Error };
  const fetches = new Map<ReadItem, Promise<Fetched>>();
  const fetchAhead = (items: readonly ReadItem[], from: number) => {
    let bytes = 0;
    for (const f of fetches.keys()) bytes += f.size;
    for (let k = from; k < items.length && fetches.size < PREFETCH_OBJECTS; k++) {
      const item = items[k]!;
      if (item.kind !== 's3' || item.size > wholeObjectBytes || fetches.has(item)) continue;
      if (fetches.size > 0 && bytes + item.size > PREFETCH_BYTES) break;
      bytes += item.size;
      fetches.set(
        item,
        d.s3!().getBytes(item.bucket, item.key).then(
          (b) => ({ bytes: b }),
          (error: Error) => ({ error }),
        ),
      );
    }
  };

  const readObject = async (item: Extract<ReadItem, { kind: 's3' }>): Promise<FileOutcome> => {
    const fetched = fetches.get(item);
    fetches.delete(item);
    try {
      if (fetched) {
        const f = await fetched;
        if ('error' in f) throw f.error;
        return await readCloudTrailBytes(f.bytes, parser.onElement, fileOptions);
      }
      return await readCloudTrailStream(await d.s3!().getStream(item.bucket, item.key), parser.onElement, fileOptions);
    } catch (err) {
      return { problem: (err as Error).message.replace(`s3://${item.bucket}/${item.key}: `, ''), elements: 0 };
    }
  };

  return {
    async read(items) {
      const report: JobReport = { items: 0, withElements: 0, bytes: 0, counts: emptyCounts(), problems: [], rejected: [], stopped: false };
      const before = { ...parser.counts };
      for (let k = 0; k < items.length; k++) {
        if (d.shouldStop()) {
          report.stopped = true;
          break;
        }
        const item = items[k]!;
        const label = itemLabel(item);
        parser.source = label;
        let outcome: FileOutcome;
        if (item.kind === 'file') {
          outcome = await readCloudTrailFile(item.file, item.size, parser.onElement, fileOptions);
        } else {
          fetchAhead(items, k);
          outcome = await readObject(item);
          if (outcome.problem === null) objects.push({ bucket: item.bucket, key: item.key, etag: item.etag, size: item.size });
        }
        report.items++;
        report.bytes += item.size;
        if (outcome.elements > 0) report.withElements++;
        if (outcome.problem !== null) report.problems.push({ file: label, reason: outcome.problem });
        await flushIfFull();
      }
      // Fetches started for items a stop left unread are let go (they never reject).
      fetches.clear();
      addCounts(report.counts, parser.counts);
      for (const key of Object.keys(before) as Array<keyof typeof before>) report.counts[key] -= before[key];
      report.rejected = parser.takeRejectedReasons();
      return report;
    },
    async finish() {
      await flush();
      await writer.drain();
    },
  };
}
