/**
 * The plugin contract. A plugin is a plain object (the default export of a package or a local module): no
 * decorators, no inversify. The registry validates it at load time and binds its contributions by name.
 */
import type { z } from 'zod';
import type { tf } from '../tf.js';

/** Bumped when the contract below changes incompatibly; a plugin declaring another version is refused. */
export const PLUGIN_API_VERSION = 1;

/** Any zod object schema; options are always a named record so errors can name the offending option. */
export type OptionSchema = z.ZodObject<z.ZodRawShape>;

/** An integer label map and what a map generator needs to know about it. */
export interface LabelMapInput {
  /** Class index per voxel, row-major over `shape` (last axis fastest). */
  readonly labels: ArrayLike<number>;
  /** Spatial shape, e.g. [H, W] or [D, H, W]. */
  readonly shape: readonly number[];
  /** Number of classes K, background included; channels exist even for absent classes. */
  readonly numClasses: number;
  /** Physical size of a voxel along each axis of `shape` (mm). */
  readonly spacing: readonly number[];
}

export interface MapGeneratorDefinition<S extends OptionSchema = OptionSchema> {
  readonly name: string;
  readonly description: string;
  readonly options: S;
  /**
   * Computes the map channels-last: a Float32Array of shape [...shape, numClasses]. Pure and synchronous so
   * the data loader can run it in worker threads on each augmented patch.
   */
  generate(input: LabelMapInput, options: z.output<S>): Float32Array;
}

/**
 * A map a loss needs, with validated options. `key` identifies the map in a batch: two losses asking for the
 * same map with the same options share one computation.
 */
export interface MapRequest {
  readonly map: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly key: string;
}

export interface LossContext {
  /** 0-based epoch, fed to schedules. */
  readonly epoch: number;
}

/** Tensors are channels-last: probs and target [B, ...spatial, K]; each map has the same shape. */
export interface LossInput {
  readonly probs: tf.Tensor;
  readonly target: tf.Tensor;
  /** Maps by MapRequest.key. */
  readonly maps: Readonly<Record<string, tf.Tensor>>;
  readonly context: LossContext;
}

export interface Loss {
  readonly name: string;
  /** The maps the data loader must compute for this loss, per patch. */
  readonly requiredMaps: readonly MapRequest[];
  /** A scalar (reduction mean|sum) or a per-sample/per-class tensor (reduction none). Gradients flow to probs. */
  compute(input: LossInput): tf.Tensor;
}

/** What a loss factory may ask of the registry, without knowing inversify or other plugins. */
export interface LossFactoryTools {
  /** Validates a map name and its options against the registered map generator. */
  requestMap(map: string, options?: Record<string, unknown>): MapRequest;
  /** Builds another registered loss (for wrappers and combinations). */
  createLoss(name: string, options?: Record<string, unknown>): Loss;
}

export interface LossDefinition<S extends OptionSchema = OptionSchema> {
  readonly name: string;
  readonly description: string;
  readonly options: S;
  create(options: z.output<S>, tools: LossFactoryTools): Loss;
}

export interface RwsegPlugin {
  readonly apiVersion: number;
  readonly name: string;
  readonly description?: string;
  // Each definition has its own option schema; `any` lets a list hold them all (factories stay typed inside).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly losses?: readonly LossDefinition<any>[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly maps?: readonly MapGeneratorDefinition<any>[];
}

/** Identity helpers that give plugin authors type inference for their options. */
export function defineLoss<S extends OptionSchema>(definition: LossDefinition<S>): LossDefinition<S> {
  return definition;
}

export function defineMap<S extends OptionSchema>(definition: MapGeneratorDefinition<S>): MapGeneratorDefinition<S> {
  return definition;
}

export function definePlugin(plugin: RwsegPlugin): RwsegPlugin {
  return plugin;
}
