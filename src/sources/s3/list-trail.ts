import { dayInRange, isDigestKey, isLogKey, isRegionLevel, layoutDay, regionListingBounds, type DayRange } from './cloudtrail-layout.js';
import type { S3Reader } from './s3-client.js';
import { s3Url, type S3Location } from './s3-url.js';

/** An object to read. */
export interface TrailObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

export interface ListTrailOptions {
  range?: DayRange;
  /** Told of what is passed over: digest folders (not listed at all) and keys that are not log files. */
  onSkipped?: (what: string, why: string) => void;
}

const REGION_MATCH = /^(.*?(?:^|\/)CloudTrail(?:-Insight)?\/[a-z0-9-]+\/)/;

/**
 * The log files under `s3://bucket/prefix`, in key order, one listing page at a time (the next
 * page is asked for while this one is consumed). The CloudTrail layout is walked with a
 * delimiter down to each region, so `CloudTrail-Digest/` folders are never listed; below a
 * region the listing is flat and, with a day range, starts at `since` and stops after `until`
 * (keys sort by day), so days outside the range are neither fetched nor listed.
 */
export async function* listTrailObjects(s3: S3Reader, at: S3Location, o: ListTrailOptions = {}): AsyncGenerator<TrailObject[]> {
  const range = o.range ?? {};
  const skip = (what: string, why: string) => o.onSkipped?.(what, why);
  const take = (objects: Array<{ key: string; size: number; etag: string }>): TrailObject[] => {
    const out: TrailObject[] = [];
    for (const obj of objects) {
      if (isDigestKey(obj.key)) skip(s3Url(at.bucket, obj.key), 'CloudTrail digest file');
      else if (!isLogKey(obj.key)) skip(s3Url(at.bucket, obj.key), 'not a .json/.json.gz file');
      else if (dayInRange(layoutDay(obj.key), range)) out.push({ bucket: at.bucket, ...obj });
    }
    return out;
  };

  async function* flat(prefix: string): AsyncGenerator<TrailObject[]> {
    const region = REGION_MATCH.exec(prefix)?.[1];
    const bounds = region ? regionListingBounds(region, range) : {};
    let pending = s3.list({ bucket: at.bucket, prefix, startAfter: bounds.startAfter });
    for (;;) {
      const page = await pending;
      const past = bounds.stopAfter ? page.objects.findIndex((x) => x.key > bounds.stopAfter!) : -1;
      const done = past >= 0 || !page.nextToken;
      if (!done) pending = s3.list({ bucket: at.bucket, prefix, token: page.nextToken });
      const objects = take(past >= 0 ? page.objects.slice(0, past) : page.objects);
      if (objects.length) yield objects;
      if (done) return;
    }
  }

  async function* walk(prefix: string): AsyncGenerator<TrailObject[]> {
    let token: string | undefined;
    do {
      const page = await s3.list({ bucket: at.bucket, prefix, delimiter: '/', token });
      token = page.nextToken;
      const objects = take(page.objects);
      if (objects.length) yield objects;
      for (const p of page.prefixes) {
        if (isDigestKey(p)) skip(s3Url(at.bucket, p), 'CloudTrail digest files (not listed)');
        else if (isRegionLevel(p)) yield* flat(p);
        else if (dayInRange(layoutDay(p), range)) yield* walk(p);
      }
    } while (token);
  }

  if (isDigestKey(at.prefix)) {
    skip(s3Url(at.bucket, at.prefix), 'CloudTrail digest files (not listed)');
    return;
  }
  yield* isRegionLevel(at.prefix) ? flat(at.prefix) : walk(at.prefix);
}
