import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module next to `from` (pass `import.meta.url`), named without
 * its extension. From the built `.js` files that is a plain Worker; from the TypeScript
 * sources (tests, tsx) the worker loads the `.ts` module through tsx's API, because Node 20
 * workers do not take `--import`.
 */
export function startWorker(from: string, name: string, o: Pick<WorkerOptions, 'workerData' | 'resourceLimits' | 'transferList'>): Worker {
  const fromSource = new URL(from).pathname.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, from);
  if (!fromSource) return new Worker(entry, o);
  const bootstrap = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(from)}))`;
  return new Worker(bootstrap, { ...o, eval: true });
}
