import { UsageError } from '../../util/errors.js';

/** A parsed `s3://bucket/prefix` argument. */
export interface S3Location {
  bucket: string;
  /** Key prefix ('' for the whole bucket). */
  prefix: string;
}

// S3's bucket naming rules: 3–63 of lowercase letters, digits, dots and hyphens, starting and
// ending with a letter or digit (older buckets in us-east-1 may hold uppercase and underscores).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/i;

export function isS3Url(arg: string): boolean {
  return /^s3:\/\//i.test(arg);
}

/** Parses `s3://bucket[/prefix]`; a malformed URL is a usage error (exit 2). */
export function parseS3Url(arg: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(arg);
  if (!m) throw new UsageError(`not an S3 URL: ${JSON.stringify(arg.slice(0, 200))} (expected s3://bucket/prefix)`);
  const bucket = m[1]!;
  if (!bucket) throw new UsageError(`no bucket in ${JSON.stringify(arg.slice(0, 200))} (expected s3://bucket/prefix)`);
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw new UsageError(`not a valid S3 bucket name: ${JSON.stringify(bucket.slice(0, 100))}`);
  return { bucket, prefix: m[2] ?? '' };
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
