import { createHash } from 'node:crypto';

/** A short digest of what a message shows: an edit is queued only when it changes. */
export function fingerprint(payload: { text: string; blocks: unknown[] }): string {
  return createHash('sha1').update(JSON.stringify(payload)).digest('base64url');
}
