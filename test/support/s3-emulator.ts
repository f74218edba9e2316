/**
 * S3 for tests: fauxqs 1.9's S3 emulator (path style, in this process, on a loopback port),
 * reached by the real AWS SDK through `AWS_ENDPOINT_URL_S3` and `S3_FORCE_PATH_STYLE`, as a
 * user would point the bot at an S3-compatible endpoint.
 *
 * fauxqs does not enforce IAM, so `denying` puts a thin proxy in front of it that refuses
 * chosen requests exactly as S3 does when a bucket policy or a KMS key policy says no (403,
 * an `AccessDenied` XML error) and forwards everything else untouched.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

export interface S3Emulator {
  server: FauxqsServer;
  endpoint: string;
  /** What a child process (the CLI) needs to reach it. */
  env: Record<string, string>;
  client: S3Client;
  /** Uploads every file under `dir`, keyed by its path relative to `dir` (after `prefix`). Returns the keys. */
  uploadTree(bucket: string, dir: string, prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export const DUMMY_AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_EC2_METADATA_DISABLED: 'true' };

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full) : [full];
  });
}

export async function startS3Emulator(): Promise<S3Emulator> {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = server.address;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    server,
    endpoint,
    env: { ...DUMMY_AWS_ENV, AWS_ENDPOINT_URL_S3: endpoint, S3_FORCE_PATH_STYLE: 'true' },
    client,
    async uploadTree(bucket, dir, prefix = '') {
      server.createBucket(bucket);
      const all = files(dir);
      const keys: string[] = [];
      for (let i = 0; i < all.length; i += 16) {
        await Promise.all(
          all.slice(i, i + 16).map(async (file) => {
            const key = prefix + path.relative(dir, file).split(path.sep).join('/');
            keys.push(key);
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(file) }));
          }),
        );
      }
      return keys.sort();
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

export interface DenyingProxy {
  endpoint: string;
  /** Requests refused so far, as "METHOD /path?query". */
  refused: string[];
  /** Every request seen, as "METHOD /path?query". */
  seen: string[];
  stop(): Promise<void>;
}

/**
 * A proxy to `target` that answers 403 AccessDenied to the requests `deny` picks (method and
 * the decoded path-style path, e.g. `/bucket/key`, plus the query), with `message` as S3 would
 * word it.
 */
export async function denying(target: string, deny: (method: string, pathAndQuery: string) => boolean, message = 'Access Denied'): Promise<DenyingProxy> {
  const refused: string[] = [];
  const seen: string[] = [];
  const to = new URL(target);
  const proxy = http.createServer((req, res) => {
    const what = `${req.method} ${decodeURIComponent(req.url ?? '')}`;
    seen.push(what);
    if (deny(req.method ?? 'GET', decodeURIComponent(req.url ?? ''))) {
      refused.push(what);
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${message}</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>aGVsbG8=</HostId></Error>`;
      res.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': '4442587FB7D0A2F9', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const upstream = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    refused,
    seen,
    stop: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}
