/**
 * Loads plugin modules from npm package names or local paths. Package names resolve from the user's project
 * first (where a third-party plugin is installed), then from rwseg's own install (where the built-ins live).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { injectable } from 'inversify';
import { RwsegError } from '../errors.js';
import type { RwsegPlugin } from './api.js';
import { validatePluginShape } from './registry.js';

export interface LoadedPlugin {
  readonly plugin: RwsegPlugin;
  /** What the user wrote: a package name, or the absolute path for local plugins. */
  readonly source: string;
}

@injectable()
export class PluginLoader {
  /** Loads one plugin; `baseDir` is where relative paths and package names are resolved from. */
  async load(specifier: string, baseDir: string = process.cwd()): Promise<LoadedPlugin> {
    const isPath = looksLikePath(specifier);
    const source = isPath ? path.resolve(baseDir, specifier) : specifier;
    const url = isPath ? resolveLocal(source) : resolvePackage(specifier, baseDir);
    let module: { default?: unknown };
    try {
      module = (await import(url ?? specifier)) as { default?: unknown };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new RwsegError(
        'PLUGIN_LOAD_FAILED',
        `cannot load plugin '${specifier}': ${reason}`,
        { specifier },
        { cause: error },
      );
    }
    const candidate = unwrapDefault(module.default);
    if (candidate === undefined) {
      throw new RwsegError(
        'INVALID_PLUGIN',
        `plugin ${source} has no valid default export: the module has no default export`,
        { source },
      );
    }
    validatePluginShape(candidate, source);
    return { plugin: candidate, source };
  }
}

function looksLikePath(specifier: string): boolean {
  return specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.startsWith('file:');
}

// A CommonJS plugin imported from ESM arrives as { default: { default: plugin } } when compiled by tsc.
function unwrapDefault(value: unknown): unknown {
  if (value && typeof value === 'object' && 'default' in value && !('apiVersion' in value)) {
    return (value as { default: unknown }).default;
  }
  return value;
}

function resolveLocal(absolute: string): string {
  const target = absolute.startsWith('file:') ? new URL(absolute).pathname : absolute;
  if (!existsSync(target)) {
    throw new RwsegError('PLUGIN_LOAD_FAILED', `cannot load plugin '${absolute}': no such file or directory`, {
      specifier: absolute,
    });
  }
  const file = statSync(target).isDirectory() ? packageEntry(target) : target;
  return pathToFileURL(file).href;
}

/** Finds node_modules/<name> walking up from baseDir; undefined lets import() try rwseg's own resolution. */
function resolvePackage(name: string, baseDir: string): string | undefined {
  for (let dir = path.resolve(baseDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return pathToFileURL(packageEntry(candidate)).href;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function packageEntry(dir: string): string {
  const manifestPath = path.join(dir, 'package.json');
  if (!existsSync(manifestPath)) return path.join(dir, 'index.js');
  let manifest: { main?: string; exports?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (error) {
    throw new RwsegError(
      'PLUGIN_LOAD_FAILED',
      `cannot load plugin at ${dir}: its package.json is not valid JSON`,
      { specifier: dir },
      { cause: error },
    );
  }
  const entry = exportTarget(manifest.exports) ?? manifest.main ?? 'index.js';
  return path.join(dir, entry);
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const record = exports as Record<string, unknown>;
  const root = '.' in record ? record['.'] : record;
  if (typeof root === 'string') return root;
  if (root && typeof root === 'object') {
    const conditions = root as Record<string, unknown>;
    for (const condition of ['import', 'node', 'default', 'require']) {
      const target = conditions[condition];
      if (typeof target === 'string') return target;
      const nested = exportTarget(target);
      if (nested) return nested;
    }
  }
  return undefined;
}
