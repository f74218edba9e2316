export type { FileFormat, FileProblem, ListedFile, RawBatch, ReadOptions, ReadProgress } from './types.js';
export { listCloudTrailFiles, isCloudTrailDigestPath } from './list-files.js';
export { readCloudTrailFiles } from './read-cloudtrail-files.js';
export { CloudTrailJsonScanner, parseCloudTrailText, type ParsedCloudTrailText } from './json-array-stream.js';
