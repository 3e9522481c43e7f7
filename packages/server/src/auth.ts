/**
 * Optional bearer-token auth. Tokens come from an environment variable or a file (one per line) and are
 * compared as SHA-256 digests with crypto.timingSafeEqual, so neither a token's content nor its length leaks
 * through response timing. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RwsegError } from '@rwseg/core';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export class TokenChecker {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    const clean = tokens.map((t) => t.trim()).filter((t) => t.length > 0);
    if (clean.length === 0) throw new RwsegError('INVALID_OPTIONS', 'auth is enabled but no token was given', {});
    this.digests = clean.map(digest);
  }

  /** True when the Authorization header carries one of the tokens as `Bearer <token>`. */
  check(header: string | undefined): boolean {
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const given = digest(match ? match[1] : '');
    let ok = false;
    // Compare against every token, without stopping early, so timing says nothing about which one matched.
    for (const d of this.digests) ok = timingSafeEqual(given, d) || ok;
    return ok && match !== null;
  }
}

/** Reads tokens, one per line, from a file ('#' starts a comment line). */
export function readTokenFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RwsegError(
      'IO_ERROR',
      `cannot read token file '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { path },
    );
  }
  const tokens = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (tokens.length === 0) throw new RwsegError('INVALID_OPTIONS', `token file '${path}' holds no token`, { path });
  return tokens;
}

/** Tokens from the environment variable (comma-separated) and/or a token file. */
export function loadTokens(options: { env?: string; file?: string }): string[] {
  const tokens: string[] = [];
  if (options.env)
    tokens.push(
      ...options.env
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    );
  if (options.file) tokens.push(...readTokenFile(options.file));
  return tokens;
}
