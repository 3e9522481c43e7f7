/**
 * Where tests and benchmarks find the project's shared folder (`shared/data`: the real public datasets,
 * `shared/spec`: the loss specification) that sits beside a checkout. The product never reads it.
 *
 * A test that needs it is skipped with the reason on a machine without it, so a fresh clone's `npm test` passes;
 * under CI, which always has the folder beside the clone, nothing is skipped: a missing folder is an error there.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCi } from './hardware.js';

export type SharedPath =
  | { readonly path: string; readonly skip?: undefined }
  /** Absent, off CI: why a test that needs it skips here. */
  | { readonly path?: undefined; readonly skip: string };

/**
 * `relative` inside the shared folder (e.g. `data/isbi2012-em-membrane`), searched in every folder above `from`
 * (a file path or an `import.meta.url`), so a checkout and a worktree nested one level deeper both find it.
 * `RWSEG_SHARED_DIR` names the shared folder explicitly.
 */
export function locateShared(relative: string, from: string, env: NodeJS.ProcessEnv = process.env): SharedPath {
  const start = from.startsWith('file:') ? fileURLToPath(from) : path.resolve(from);
  const explicit = env.RWSEG_SHARED_DIR;
  const candidates = explicit
    ? [path.join(explicit, relative)]
    : ancestors(start).map((dir) => path.join(dir, 'shared', relative));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found) return { path: found };
  const where = explicit ? `in RWSEG_SHARED_DIR (${explicit})` : `in a shared/ folder above ${path.dirname(start)}`;
  const message = `shared/${relative} not found ${where}`;
  if (isCi(env)) throw new Error(`${message}: CI needs the project's shared folder beside the clone`);
  return { skip: `${message}; put the project's shared folder beside the checkout to run this test (CI has it)` };
}

function ancestors(start: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(start); ; dir = path.dirname(dir)) {
    out.push(dir);
    if (dir === path.dirname(dir)) return out;
  }
}
