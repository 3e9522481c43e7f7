/**
 * The dependency-injection container. Services are bound to tokens so that the CLI, the server and tests can
 * swap a logger or add plugins without touching the classes; plugin authors never see any of this.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { BUILTIN_PLUGINS } from './builtin-plugins.js';
import { RwsegError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { RwsegPlugin } from './plugin-api.js';
import { pluginsFromPackageJson, type PluginSpec } from './plugin-config.js';
import { PluginLoader } from './plugin-loader.js';
import { PluginRegistry } from './registry.js';

export const TOKENS = {
  Registry: Symbol.for('rwseg.PluginRegistry'),
  PluginLoader: Symbol.for('rwseg.PluginLoader'),
  Logger: Symbol.for('rwseg.Logger'),
} as const;

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

export async function createContainer(options: CreateRegistryOptions = {}): Promise<Container> {
  const container = new Container();
  const logger = options.logger ?? silentLogger;
  container.bind<Logger>(TOKENS.Logger).toConstantValue(logger);
  container.bind(TOKENS.PluginLoader).to(PluginLoader).inSingletonScope();
  container.bind(TOKENS.Registry).to(PluginRegistry).inSingletonScope();

  const loader = container.get<PluginLoader>(TOKENS.PluginLoader);
  const registry = container.get<PluginRegistry>(TOKENS.Registry);
  const baseDir = options.baseDir ?? process.cwd();

  if (options.builtins ?? true) {
    for (const name of BUILTIN_PLUGINS) {
      const loaded = await loader.load(name, baseDir).catch((error: unknown) => {
        throw new RwsegError('PLUGIN_LOAD_FAILED', `built-in plugin ${name} could not be loaded (is it installed? npm install ${name}): ${(error as Error).message}`, { specifier: name }, { cause: error });
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
    logger.debug('plugin registered', { plugin: typeof item === 'string' ? item : 'specifier' in item ? item.specifier : item.name });
  }
  return container;
}

/** The registry with built-in and configured plugins loaded: the entry point for library users. */
export async function createRegistry(options: CreateRegistryOptions = {}): Promise<PluginRegistry> {
  const container = await createContainer(options);
  return container.get<PluginRegistry>(TOKENS.Registry);
}
