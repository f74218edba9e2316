import fs, { type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import type { FileProblem, ListedFile, ReadOptions } from './types.js';

export const SKIP_NOT_JSON = 'not a .json/.json.gz file';
export const SKIP_DIGEST = 'CloudTrail digest file';
export const SKIP_DUPLICATE = 'already listed';

/** True for CloudTrail digest files: a `CloudTrail-Digest` path segment or `_CloudTrail-Digest_` in the name. */
export function isCloudTrailDigestPath(p: string): boolean {
  const segments = p.split(/[\\/]+/);
  const name = segments[segments.length - 1] ?? '';
  return name.includes('_CloudTrail-Digest_') || segments.includes('CloudTrail-Digest');
}

/** True for names a directory walk takes: `*.json` and `*.json.gz` (any case). */
export function hasJsonExtension(p: string): boolean {
  const lower = p.toLowerCase();
  return lower.endsWith('.json') || lower.endsWith('.json.gz');
}

/** The reason string for a failed fs call on `p`. */
export function fsErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file or directory';
  if (code) return `unreadable: ${code}`;
  return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

type ListOptions = Pick<ReadOptions, 'onSkipped' | 'onProblem'>;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Expand command-line paths into the CloudTrail files to read, in order. Directories are
 * walked recursively in sorted order, taking only `*.json`/`*.json.gz`; digest files are
 * skipped everywhere. A file named explicitly is taken whatever its name. Missing or
 * unreadable paths are reported through `onProblem`; nothing throws for bad paths.
 *
 * Each directory is read and its entries stat'ed with synchronous calls (an organization
 * trail holds tens of thousands of files: promises for each cost twice the memory and more
 * time), yielding to the event loop between directories.
 */
export async function listCloudTrailFiles(paths: string[], opts: ListOptions = {}): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const problem = (file: string, reason: string): void => opts.onProblem?.({ file, reason } satisfies FileProblem);
  const skipped = (file: string, why: string): void => opts.onSkipped?.(file, why);

  const addFile = (file: string, st: Stats): void => {
    if (isCloudTrailDigestPath(file)) return skipped(file, SKIP_DIGEST);
    const id = `${st.dev}:${st.ino}`; // the same file reached twice (named twice, or through a link)
    if (seenFiles.has(id)) return skipped(file, SKIP_DUPLICATE);
    seenFiles.add(id);
    out.push({ file, size: st.size });
  };

  const walk = async (dir: string, st: Stats): Promise<void> => {
    const id = `${st.dev}:${st.ino}`;
    if (seenDirs.has(id)) return; // symlink loop or directory named twice
    seenDirs.add(id);
    let entries: Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      return problem(dir, fsErrorReason(err));
    }
    entries.sort(byName);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isFile() && !hasJsonExtension(e.name)) {
        skipped(full, SKIP_NOT_JSON);
        continue;
      }
      if (!e.isFile() && !e.isDirectory() && !e.isSymbolicLink()) {
        skipped(full, 'not a regular file');
        continue;
      }
      let s: Stats;
      try {
        s = fs.statSync(full);
      } catch (err) {
        problem(full, e.isSymbolicLink() ? `${fsErrorReason(err)} (broken symbolic link)` : fsErrorReason(err));
        continue;
      }
      if (s.isDirectory()) {
        await yieldToEventLoop();
        await walk(full, s);
      } else if (!s.isFile()) skipped(full, 'not a regular file');
      else if (!hasJsonExtension(e.name)) skipped(full, SKIP_NOT_JSON); // a symlink to a non-JSON file
      else addFile(full, s);
    }
  };

  for (const p of paths) {
    let st: Stats;
    try {
      st = fs.statSync(p);
    } catch (err) {
      problem(p, fsErrorReason(err));
      continue;
    }
    if (st.isDirectory()) await walk(p, st);
    else if (st.isFile()) addFile(p, st);
    else problem(p, 'not a regular file or directory');
  }
  return out;
}
