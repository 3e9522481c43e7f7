/**
 * The plugin registry: every loss and map generator, by name. The core itself names none of them; built-in and
 * third-party plugins are registered the same way, and everything downstream resolves by name.
 */
import { injectable } from 'inversify';
import { RwsegError } from '../errors.js';
import { optionsJsonSchema, parseOptions, stableKey, type OptionOwner } from './options.js';
import {
  PLUGIN_API_VERSION,
  type LabelMapInput,
  type Loss,
  type LossDefinition,
  type LossFactoryTools,
  type MapGeneratorDefinition,
  type MapRequest,
  type RwsegPlugin,
} from './api.js';

export interface RegisteredPlugin {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly losses: string[];
  readonly maps: string[];
}

interface Entry<D> {
  readonly definition: D;
  readonly plugin: RegisteredPlugin;
}

export interface ContributionInfo {
  readonly kind: 'loss' | 'map';
  readonly name: string;
  readonly description: string;
  readonly plugin: string;
  readonly source: string;
  readonly options: Record<string, unknown>;
}

/** A map generator bound to validated options, ready to run on label maps. */
export interface BoundMapGenerator extends MapRequest {
  generate(input: LabelMapInput): Float32Array;
}

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

@injectable()
export class PluginRegistry {
  private readonly pluginList: RegisteredPlugin[] = [];
  private readonly lossEntries = new Map<string, Entry<LossDefinition>>();
  private readonly mapEntries = new Map<string, Entry<MapGeneratorDefinition>>();

  /** Registers a validated plugin object. `source` says where it came from (package name or path). */
  register(plugin: RwsegPlugin, source: string): RegisteredPlugin {
    validatePluginShape(plugin, source);
    if (plugin.apiVersion !== PLUGIN_API_VERSION) {
      throw new RwsegError(
        'UNSUPPORTED_API_VERSION',
        `plugin '${plugin.name}' (${source}) declares plugin API version ${String(plugin.apiVersion)}, but this rwseg supports version ${PLUGIN_API_VERSION}`,
        { plugin: plugin.name, source, apiVersion: plugin.apiVersion },
      );
    }
    const existing = this.pluginList.find((p) => p.name === plugin.name);
    if (existing) {
      throw new RwsegError(
        'DUPLICATE_NAME',
        `plugin '${plugin.name}' is registered twice: from ${existing.source} and from ${source}`,
        {
          plugin: plugin.name,
        },
      );
    }
    const losses = plugin.losses ?? [];
    const maps = plugin.maps ?? [];
    checkNoClash('loss', losses, this.lossEntries, plugin, source);
    checkNoClash('map', maps, this.mapEntries, plugin, source);

    const record: RegisteredPlugin = {
      name: plugin.name,
      description: plugin.description ?? '',
      source,
      losses: losses.map((l) => l.name),
      maps: maps.map((m) => m.name),
    };
    for (const loss of losses) this.lossEntries.set(loss.name, { definition: loss, plugin: record });
    for (const map of maps) this.mapEntries.set(map.name, { definition: map, plugin: record });
    this.pluginList.push(record);
    return record;
  }

  get plugins(): readonly RegisteredPlugin[] {
    return this.pluginList;
  }

  lossNames(): string[] {
    return [...this.lossEntries.keys()].sort();
  }

  mapNames(): string[] {
    return [...this.mapEntries.keys()].sort();
  }

  hasLoss(name: string): boolean {
    return this.lossEntries.has(name);
  }

  hasMap(name: string): boolean {
    return this.mapEntries.has(name);
  }

  /** Validates options for a loss and returns them with defaults filled in. */
  lossOptions(name: string, raw?: Record<string, unknown>): Record<string, unknown> {
    const entry = this.lossEntry(name);
    return parseOptions(ownerOf('loss', entry), entry.definition.options, raw);
  }

  /** Validates options for a map generator and returns them with defaults filled in. */
  mapOptions(name: string, raw?: Record<string, unknown>): Record<string, unknown> {
    const entry = this.mapEntry(name);
    return parseOptions(ownerOf('map', entry), entry.definition.options, raw);
  }

  createLoss(name: string, raw?: Record<string, unknown>): Loss {
    const entry = this.lossEntry(name);
    const options = parseOptions(ownerOf('loss', entry), entry.definition.options, raw);
    return entry.definition.create(options, this.toolsFor());
  }

  requestMap(name: string, raw?: Record<string, unknown>): MapRequest {
    const options = this.mapOptions(name, raw);
    return { map: name, options, key: stableKey(name, options) };
  }

  /** A map generator with its options bound; what the data loader calls per patch. */
  createMapGenerator(name: string, raw?: Record<string, unknown>): BoundMapGenerator {
    const entry = this.mapEntry(name);
    const request = this.requestMap(name, raw);
    return { ...request, generate: (input) => entry.definition.generate(input, request.options) };
  }

  describe(kind: 'loss' | 'map', name: string): ContributionInfo {
    const entry = kind === 'loss' ? this.lossEntry(name) : this.mapEntry(name);
    return {
      kind,
      name,
      description: entry.definition.description,
      plugin: entry.plugin.name,
      source: entry.plugin.source,
      options: optionsJsonSchema(entry.definition.options),
    };
  }

  describeAll(): ContributionInfo[] {
    return [
      ...this.lossNames().map((n) => this.describe('loss', n)),
      ...this.mapNames().map((n) => this.describe('map', n)),
    ];
  }

  private toolsFor(): LossFactoryTools {
    return {
      requestMap: (map, options) => this.requestMap(map, options),
      createLoss: (name, options) => this.createLoss(name, options),
    };
  }

  private lossEntry(name: string): Entry<LossDefinition> {
    const entry = this.lossEntries.get(name);
    if (!entry) throw unknownName('loss', name, this.lossNames());
    return entry;
  }

  private mapEntry(name: string): Entry<MapGeneratorDefinition> {
    const entry = this.mapEntries.get(name);
    if (!entry) throw unknownName('map', name, this.mapNames());
    return entry;
  }
}

function ownerOf(kind: 'loss' | 'map', entry: Entry<unknown>): OptionOwner {
  const definition = entry.definition as { name: string };
  return { kind, name: definition.name, plugin: entry.plugin.name };
}

function unknownName(kind: 'loss' | 'map', name: string, known: string[]): RwsegError {
  return new RwsegError(
    'UNKNOWN_NAME',
    `unknown ${kind} '${name}'; registered ${kind === 'loss' ? 'losses' : 'maps'}: ${known.join(', ') || '(none)'}`,
    {
      kind,
      name,
      known,
    },
  );
}

function checkNoClash(
  kind: 'loss' | 'map',
  contributions: readonly { name: string }[],
  registered: Map<string, Entry<unknown>>,
  plugin: RwsegPlugin,
  source: string,
): void {
  const seen = new Set<string>();
  for (const { name } of contributions) {
    const owner = registered.get(name);
    if (owner || seen.has(name)) {
      const first = owner ? `plugin '${owner.plugin.name}' (${owner.plugin.source})` : `plugin '${plugin.name}' itself`;
      throw new RwsegError(
        'DUPLICATE_NAME',
        `${kind} '${name}' from plugin '${plugin.name}' (${source}) is already registered by ${first}`,
        {
          kind,
          name,
          plugin: plugin.name,
        },
      );
    }
    seen.add(name);
  }
}

/** Checks the shape of an untrusted default export, naming the first field that is wrong. */
export function validatePluginShape(candidate: unknown, source: string): asserts candidate is RwsegPlugin {
  const fail = (problem: string): never => {
    throw new RwsegError('INVALID_PLUGIN', `plugin ${source} has no valid default export: ${problem}`, { source });
  };
  if (candidate === null || typeof candidate !== 'object')
    fail(`expected an object, got ${candidate === null ? 'null' : typeof candidate}`);
  const plugin = candidate as Record<string, unknown>;
  if (typeof plugin.apiVersion !== 'number') fail("'apiVersion' must be a number");
  if (typeof plugin.name !== 'string' || plugin.name.length === 0) fail("'name' must be a non-empty string");
  for (const kind of ['losses', 'maps'] as const) {
    const list = plugin[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) fail(`'${kind}' must be an array`);
    (list as unknown[]).forEach((item, index) => {
      const where = `${kind}[${index}]`;
      if (item === null || typeof item !== 'object') fail(`${where} must be an object`);
      const c = item as Record<string, unknown>;
      if (typeof c.name !== 'string' || !NAME_PATTERN.test(c.name))
        fail(`${where}.name must be a lower-case name like 'my-loss', got ${JSON.stringify(c.name)}`);
      if (typeof c.description !== 'string') fail(`${where} ('${String(c.name)}') needs a 'description' string`);
      const options = c.options as { safeParse?: unknown; shape?: unknown } | undefined;
      if (!options || typeof options.safeParse !== 'function' || typeof options.shape !== 'object') {
        fail(`${where} ('${String(c.name)}') needs 'options', a zod object schema (z.object({...}))`);
      }
      const factory = kind === 'losses' ? 'create' : 'generate';
      if (typeof c[factory] !== 'function') fail(`${where} ('${String(c.name)}') needs a '${factory}' function`);
    });
  }
}
