import { readCloudTrailBytes, readCloudTrailFile, readCloudTrailStream, type FileOutcome, type ReadFileOptions } from '../sources/files/index.js';
import type { S3Reader } from '../sources/s3/index.js';
import type { Clock } from '../util/clock.js';
import { addCounts, ElementParser, emptyCounts, PARSER_FIELDS } from './element-parser.js';
import type { RecordWriter } from './record-writer.js';
import type { IngestedObject, JobReport, ReadItem, ReaderSettings } from './thread-protocol.js';

/** Malformed elements are kept whole until written (each may be megabytes): bound them by size too. */
const MAX_PENDING_REJECTED_CHARS = 16 * 1024 * 1024;

export interface ItemReaderDeps {
  writer: RecordWriter;
  settings: ReaderSettings;
  clock: Clock;
  /** Checked between items: true stops the job there. */
  shouldStop: () => boolean;
  /** The S3 client, made on first need: only objects too big to fetch whole are read by a reader itself. */
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

  const readObject = async (item: Extract<ReadItem, { kind: 's3' }>): Promise<FileOutcome> => {
    if (item.problem !== undefined) return { problem: item.problem, elements: 0 };
    if (item.bytes) return readCloudTrailBytes(Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength), parser.onElement, fileOptions);
    try {
      return await readCloudTrailStream(await d.s3!().getStream(item.bucket, item.key), parser.onElement, fileOptions);
    } catch (err) {
      return { problem: (err as Error).message.replace(`s3://${item.bucket}/${item.key}: `, ''), elements: 0 };
    }
  };

  return {
    async read(items) {
      const report: JobReport = { items: 0, withElements: 0, bytes: 0, counts: emptyCounts(), problems: [], rejected: [], stopped: false };
      const before = { ...parser.counts };
      for (const item of items) {
        if (d.shouldStop()) {
          report.stopped = true;
          break;
        }
        const label = itemLabel(item);
        parser.source = label;
        let outcome: FileOutcome;
        if (item.kind === 'file') {
          outcome = await readCloudTrailFile(item.file, item.size, parser.onElement, fileOptions);
        } else {
          outcome = await readObject(item);
          if (outcome.problem === null) objects.push({ bucket: item.bucket, key: item.key, etag: item.etag, size: item.size });
        }
        report.items++;
        report.bytes += item.size;
        if (outcome.elements > 0) report.withElements++;
        if (outcome.problem !== null) report.problems.push({ file: label, reason: outcome.problem });
        await flushIfFull();
      }
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
