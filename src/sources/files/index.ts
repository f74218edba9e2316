export type { FileFormat, FileProblem, ListedFile, RawBatch, ReadOptions, ReadProgress } from './types.js';
export { listCloudTrailFiles, isCloudTrailDigestPath } from './list-files.js';
export {
  readCloudTrailFile,
  readCloudTrailBytes,
  readCloudTrailStream,
  readCloudTrailFiles,
  gunzipWhole,
  isGzip,
  type FileOutcome,
  type ReadFileOptions,
} from './read-cloudtrail-files.js';
export { CloudTrailJsonScanner, parseCloudTrailText, type ElementHandler, type ParsedCloudTrailText } from './json-array-stream.js';
