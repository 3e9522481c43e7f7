/** Option validation shared by every contribution, so all errors read the same and name plugin and option. */
import { z } from 'zod';
import { RwsegError } from '../errors.js';
import type { OptionSchema } from './api.js';

export interface OptionOwner {
  readonly kind: 'loss' | 'map';
  readonly name: string;
  readonly plugin: string;
}

export function parseOptions<S extends OptionSchema>(owner: OptionOwner, schema: S, raw: unknown): z.output<S> {
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${owner.kind} '${owner.name}' (plugin ${owner.plugin}): options must be an object, got ${describeValue(input)}`,
      { ...owner },
    );
  }
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${owner.kind} '${owner.name}' (plugin ${owner.plugin}): unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; known options: ${known.join(', ') || '(none)'}`,
      { ...owner, options: unknown },
    );
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `option '${issue.path.join('.') || '(root)'}': ${issue.message}`,
    );
    throw new RwsegError(
      'INVALID_OPTIONS',
      `${owner.kind} '${owner.name}' (plugin ${owner.plugin}): ${problems.join('; ')}`,
      {
        ...owner,
        options: result.error.issues.map((issue) => issue.path.join('.')),
      },
    );
  }
  return result.data;
}

/** JSON Schema of the options as a user writes them (defaults included), for listings and docs. */
export function optionsJsonSchema(schema: OptionSchema): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { type: 'object', description: 'schema not representable as JSON Schema' };
  }
}

/** Deterministic key for a (name, options) pair: same options in any key order give the same key. */
export function stableKey(name: string, options: Readonly<Record<string, unknown>>): string {
  return `${name}${JSON.stringify(sortKeys(options))}`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
