/**
 * A loss as it crosses into worker threads: its configuration and the plugins that provide it, plain data built
 * once, from which each thread's registry builds the same loss. Loss objects (code) cannot cross; a signature
 * (name and the maps it needs) lets the thread that built the spec check that a worker built the same loss.
 */
import type { Loss, RwsegPlugin } from '../plugins/api.js';
import type { PluginSpec } from '../plugins/config.js';
import { checkPluginsCrossThreads } from '../workers/pool.js';
import { parseLossConfig, type LossConfig } from './loss-config.js';

export interface LossSpec {
  /** What buildLoss takes: a loss name, { loss, options } or a combination. */
  readonly loss: LossConfig;
  /** Plugins (package names, paths, or specs) the worker registries load on top of the built-ins. */
  readonly plugins?: readonly (string | PluginSpec)[];
  /** Where relative plugin paths and package names resolve from (default: the working directory). */
  readonly baseDir?: string;
}

/** Validates a loss configuration and its plugins once, refusing plugin objects (they cannot cross threads). */
export function lossSpec(
  config: unknown,
  plugins: readonly (string | PluginSpec | RwsegPlugin)[] = [],
  baseDir?: string,
  path = 'loss',
): LossSpec {
  checkPluginsCrossThreads(plugins, `${path}: plugins`);
  return {
    loss: parseLossConfig(config, path),
    plugins: plugins as readonly (string | PluginSpec)[],
    ...(baseDir === undefined ? {} : { baseDir }),
  };
}

/** What two threads compare to know they built the same loss: its name and the keys of the maps it needs. */
export function lossSignature(loss: Loss): string {
  return `${loss.name} [${loss.requiredMaps.map((m) => m.key).join(', ')}]`;
}
