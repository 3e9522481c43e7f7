/** The keys services are bound under in rwseg's container (services/container.ts). */
export const TOKENS = {
  Logger: Symbol.for('rwseg.Logger'),
  Clock: Symbol.for('rwseg.Clock'),
  Backend: Symbol.for('rwseg.BackendSelection'),
  PluginLoader: Symbol.for('rwseg.PluginLoader'),
  Registry: Symbol.for('rwseg.PluginRegistry'),
  /** Which plugins the registry loads (CreateRegistryOptions). */
  RegistryOptions: Symbol.for('rwseg.RegistryOptions'),
} as const;
