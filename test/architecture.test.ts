import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules that keep the layers apart (README "How it works"): arrows point one way.
 * Imports are read from the sources, type-only imports included: a type import is still a
 * dependency between rooms.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    out.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, imports(f).filter((t) => files.includes(t))]));
const room = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

describe('architecture', () => {
  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => path.relative(SRC, x)).join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('nothing depends on the CLI but main.ts', () => {
    const offenders = files.filter((f) => room(f) !== 'cli' && f !== path.join(SRC, 'main.ts') && graph.get(f)!.some((t) => room(t) === 'cli'));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('the pure layers do no I/O and know no surface', () => {
    const pure = files.filter((f) => room(f) === 'model' || (room(f) === 'reports' && f.includes(`${path.sep}render${path.sep}`)));
    const forbidden = /from '(node:(fs|net|http|https|child_process|worker_threads)|better-sqlite3|@slack\/[^']+|@aws-sdk\/[^']+)'/;
    const offenders = pure.filter((f) => forbidden.test(fs.readFileSync(f, 'utf8')) || graph.get(f)!.some((t) => ['slack', 'cli', 'store', 'sources', 'runtime'].includes(room(t))));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('sources never know about Slack', () => {
    const offenders = files.filter((f) => room(f) === 'sources' && graph.get(f)!.some((t) => room(t) === 'slack'));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
