export { parseS3Url, isS3Url, s3Url, type S3Location } from './s3-url.js';
export { createS3Reader, s3Error, S3SourceError, type S3Reader, type S3Settings, type S3ListPage } from './s3-client.js';
export { listTrailObjects, type TrailObject, type ListTrailOptions } from './list-trail.js';
export { dayInRange, isDigestKey, layoutDay, type DayRange } from './cloudtrail-layout.js';
