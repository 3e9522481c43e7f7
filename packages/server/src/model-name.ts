import { RwsegError } from '@rwseg/core';

const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;

/** True for names that can only ever mean one folder inside the repository (no separators, no '.', '..'). */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && name !== '.' && name !== '..' && name.length <= 200;
}

/** Rejects model names and versions that could escape the model repository folder. */
export function assertSafeName(name: string, what: 'model name' | 'model version'): string {
  if (!isSafeName(name)) {
    throw new RwsegError('INVALID_INPUT', `invalid ${what} '${name.slice(0, 80)}': use letters, digits, '_', '.' and '-' only`, { name });
  }
  return name;
}
