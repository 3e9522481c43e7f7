/**
 * rwseg's composition root: the services the CLI, the server, the pipeline and tests share, bound in one inversify
 * container. A caller swaps one by rebinding its token (`services.rebind(TOKENS.Clock).toConstantValue(fake)`)
 * before anything resolves it. Plugin authors never see any of this: plugins are plain objects.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { silentLogger, type Logger } from '../logger.js';
import { PluginLoader } from '../plugins/loader.js';
import { loadConfiguredPlugins, type CreateRegistryOptions } from '../plugins/load-plugins.js';
import { PluginRegistry } from '../plugins/registry.js';
import { BackendSelection } from './backend-selection.js';
import { systemClock, type Clock } from './clock.js';
import { TOKENS } from './tokens.js';

export interface ServiceOptions extends CreateRegistryOptions {
  clock?: Clock;
}

/** A container with every shared service bound; the registry is loaded by `resolveRegistry`. */
export function createServices(options: ServiceOptions = {}): Container {
  const container = new Container();
  container.bind<Logger>(TOKENS.Logger).toConstantValue(options.logger ?? silentLogger);
  container.bind<Clock>(TOKENS.Clock).toConstantValue(options.clock ?? systemClock);
  container.bind(TOKENS.Backend).to(BackendSelection).inSingletonScope();
  container.bind(TOKENS.PluginLoader).to(PluginLoader).inSingletonScope();
  container.bind(TOKENS.Registry).to(PluginRegistry).inSingletonScope();
  const { clock: _clock, logger: _logger, ...registryOptions } = options;
  container.bind<CreateRegistryOptions>(TOKENS.RegistryOptions).toConstantValue(registryOptions);
  return container;
}

const loaded = new WeakMap<PluginRegistry, Promise<PluginRegistry>>();

/** The container's registry with its configured plugins loaded (once, however many callers ask). */
export function resolveRegistry(container: Container): Promise<PluginRegistry> {
  const registry = container.get<PluginRegistry>(TOKENS.Registry);
  let ready = loaded.get(registry);
  if (!ready) {
    ready = loadConfiguredPlugins(
      container.get<PluginLoader>(TOKENS.PluginLoader),
      registry,
      container.get<CreateRegistryOptions>(TOKENS.RegistryOptions),
      container.get<Logger>(TOKENS.Logger),
    ).then(() => registry);
    loaded.set(registry, ready);
  }
  return ready;
}

/** A container of rwseg's services whose registry has its plugins loaded. */
export async function createContainer(options: ServiceOptions = {}): Promise<Container> {
  const container = createServices(options);
  await resolveRegistry(container);
  return container;
}

/** The registry with built-in and configured plugins loaded: the entry point for library users. */
export async function createRegistry(options: CreateRegistryOptions = {}): Promise<PluginRegistry> {
  return resolveRegistry(createServices(options));
}
