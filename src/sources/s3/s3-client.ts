/**
 * S3 through the AWS SDK v3: the listing of a CloudTrail bucket and its objects' bodies.
 * The client is configured as every AWS SDK program is (AWS_REGION, the credential chain,
 * AWS_ENDPOINT_URL_S3), plus S3_FORCE_PATH_STYLE for S3-compatible endpoints. The SDK loads
 * on first use, so commands and threads that never reach S3 do not pay for it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../../util/errors.js';
import { s3Url } from './s3-url.js';

export interface S3Settings {
  region: string;
  forcePathStyle: boolean;
}

/** One page of a listing. */
export interface S3ListPage {
  objects: Array<{ key: string; size: number; etag: string }>;
  /** Sub-prefixes, when listed with a delimiter. */
  prefixes: string[];
  nextToken?: string;
}

/** A failure reaching S3, worded for a person; `exitCode` 2 when it is the configuration's fault. */
export class S3SourceError extends AppError {}

/** What S3 is asked for: a listing page, an object (whole, or as a stream). */
export interface S3Reader {
  list(q: { bucket: string; prefix: string; delimiter?: string; startAfter?: string; token?: string }): Promise<S3ListPage>;
  /** The object's bytes. */
  getBytes(bucket: string, key: string): Promise<Buffer>;
  /** The object's body as it downloads. */
  getStream(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>>;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

export function createS3Reader(settings: S3Settings, env: Record<string, string | undefined> = process.env): S3Reader {
  let client: Promise<{ sdk: typeof import('@aws-sdk/client-s3'); client: S3Client }> | undefined;
  const get = () =>
    (client ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: settings.region,
        forcePathStyle: settings.forcePathStyle,
        // A bucket in another region answers with a redirect: follow it instead of failing.
        followRegionRedirects: true,
        maxAttempts: 5,
      }),
    })));
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return {
    async list(q) {
      const { sdk, client } = await get();
      try {
        const out = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: q.bucket, Prefix: q.prefix || undefined, Delimiter: q.delimiter, StartAfter: q.token ? undefined : q.startAfter, ContinuationToken: q.token }),
        );
        return {
          objects: (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0, etag: unquote(o.ETag) })).filter((o) => o.key),
          prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? '').filter(Boolean),
          nextToken: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      } catch (err) {
        throw s3Error(err, s3Url(q.bucket, q.prefix), endpoint);
      }
    },
    async getBytes(bucket, key) {
      const { sdk, client } = await get();
      try {
        const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await out.Body!.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (err) {
        throw s3Error(err, s3Url(bucket, key), endpoint);
      }
    },
    async getStream(bucket, key) {
      const { sdk, client } = await get();
      try {
        const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        return out.Body as AsyncIterable<Uint8Array>;
      } catch (err) {
        throw s3Error(err, s3Url(bucket, key), endpoint);
      }
    },
  };
}

/** Turns an SDK error into one line a person can act on. */
export function s3Error(err: unknown, where: string, endpoint?: string): S3SourceError {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const status = e?.$metadata?.httpStatusCode;
  const bucket = /^s3:\/\/([^/]+)/.exec(where)?.[1] ?? where;
  if (name === 'NoSuchBucket') return new S3SourceError(`s3://${bucket}: no such bucket`, 1);
  if (name === 'NoSuchKey') return new S3SourceError(`${where}: no such object (deleted since it was listed?)`, 1);
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    const kms = /kms/i.test(e?.message ?? '') ? ' (the trail is encrypted with SSE-KMS: kms:Decrypt on its key is needed too)' : '';
    return new S3SourceError(`${where}: access denied${kms}; reading a trail needs s3:ListBucket on the bucket and s3:GetObject on its objects`, 1);
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) {
    return new S3SourceError('no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance or task role', 2);
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken') {
    return new S3SourceError(`${where}: the AWS credentials were refused (${name})`, 2);
  }
  const code = e?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  if (code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/.test(code)) {
    return new S3SourceError(`cannot reach S3${endpoint ? ` at ${endpoint}` : ''}: ${code}`, 1);
  }
  const detail = (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
  return new S3SourceError(`${where}: ${name && name !== 'Error' ? `${name}: ` : ''}${detail}`, 1);
}
