/**
 * Loading the configured plugins into a registry: built-ins first, then the package.json's `rwseg.plugins`, then
 * those given. The container that holds the registry is services/container.ts.
 */
import { BUILTIN_PLUGINS } from './builtins.js';
import { RwsegError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RwsegPlugin } from './api.js';
import { pluginsFromPackageJson, type PluginSpec } from './config.js';
import type { PluginLoader } from './loader.js';
import type { PluginRegistry } from './registry.js';

export interface CreateRegistryOptions {
  /** Extra plugins: package names, paths (relative to `baseDir`), specs with their own base, or plugin objects. */
  plugins?: readonly (string | PluginSpec | RwsegPlugin)[];
  /** Load the built-in plugins first (default true). */
  builtins?: boolean;
  /** Also read the `rwseg.plugins` section of `baseDir`/package.json (default true). */
  packageJson?: boolean;
  /** Where relative paths and package names resolve from (default: the working directory). */
  baseDir?: string;
  logger?: Logger;
}

/** Loads the built-in plugins, then those of package.json and `options.plugins`, into `registry`. */
export async function loadConfiguredPlugins(
  loader: PluginLoader,
  registry: PluginRegistry,
  options: CreateRegistryOptions,
  logger: Logger,
): Promise<void> {
  const baseDir = options.baseDir ?? process.cwd();
  if (options.builtins ?? true) {
    for (const name of BUILTIN_PLUGINS) {
      const loaded = await loader.load(name, baseDir).catch((error: unknown) => {
        throw new RwsegError(
          'PLUGIN_LOAD_FAILED',
          `built-in plugin ${name} could not be loaded (is it installed? npm install ${name}): ${(error as Error).message}`,
          { specifier: name },
          { cause: error },
        );
      });
      registry.register(loaded.plugin, loaded.source);
    }
  }
  const extra: (string | PluginSpec | RwsegPlugin)[] = [
    ...((options.packageJson ?? true) ? pluginsFromPackageJson(baseDir) : []),
    ...(options.plugins ?? []),
  ];
  for (const item of extra) {
    if (typeof item === 'string' || 'specifier' in item) {
      const spec = typeof item === 'string' ? { specifier: item, baseDir } : item;
      const loaded = await loader.load(spec.specifier, spec.baseDir);
      registry.register(loaded.plugin, loaded.source);
    } else {
      registry.register(item, `in-memory plugin '${item.name}'`);
    }
    logger.debug('plugin registered', {
      plugin: typeof item === 'string' ? item : 'specifier' in item ? item.specifier : item.name,
    });
  }
}
