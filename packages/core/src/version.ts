import { readFileSync } from 'node:fs';

/** The version of @rwseg/core, read from its package.json so it cannot drift from what npm installed. */
export const RWSEG_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
