/** Where plugin specifiers come from besides flags and pipeline YAML: the `rwseg` section of a package.json. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';

export interface PluginSpec {
  readonly specifier: string;
  /** Directory relative paths and package names in `specifier` resolve from. */
  readonly baseDir: string;
}

/**
 * Reads `{"rwseg": {"plugins": [...]}}` from the package.json in `dir`, if any. Paths in it are relative to
 * that package.json, as a user would expect.
 */
export function pluginsFromPackageJson(dir: string): PluginSpec[] {
  const manifestPath = path.join(dir, 'package.json');
  if (!existsSync(manifestPath)) return [];
  let manifest: { rwseg?: { plugins?: unknown } };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (error) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${manifestPath} is not valid JSON`,
      { file: manifestPath },
      { cause: error },
    );
  }
  const plugins = manifest.rwseg?.plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${manifestPath}: "rwseg.plugins" must be an array of package names or paths`,
      { file: manifestPath },
    );
  }
  return plugins.map((specifier: string) => ({ specifier, baseDir: dir }));
}
