/**
 * The rule for model names (and version folders): what a server URL segment, a Triton model folder and
 * `rwseg export --name` may be. One rule, so an export can never write a name the server would refuse, nor a
 * path outside the model repository.
 */
import { RwsegError } from '../errors.js';

const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;

/** True for names that can only ever mean one folder inside the repository (no separators, no '.', '..'). */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && name !== '.' && name !== '..' && !name.startsWith('.') && name.length <= 200;
}

/** Rejects model names and versions that could escape the model repository folder. */
export function assertSafeName(name: string, what: string): string {
  if (!isSafeName(name)) {
    throw new RwsegError(
      'INVALID_INPUT',
      `invalid ${what} '${name.slice(0, 80)}': use letters, digits, '_', '.' and '-' only, not starting with '.'`,
      { name },
    );
  }
  return name;
}
