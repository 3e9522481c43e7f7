/**
 * The converter registry: one function per TF.js layer class name. Custom layers (a user's own
 * `tf.layers.Layer` subclass, registered with `tf.serialization.registerClass`) become convertible by
 * registering a converter under the same class name with `registerLayerConverter`.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';

/** A layer weight as the converter sees it: TF.js shape (kernels HWIO, channels-last) and float32 data. */
export interface LayerWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** What a converter receives for one call (node) of a layer. */
export interface LayerConversionContext {
  builder: GraphBuilder;
  layer: tfl.layers.Layer;
  /** The layer's index in `model.layers` (-1 for a Sequential model's implicit input layer). */
  layerIndex: number;
  /** `layer.getConfig()`. */
  config: Record<string, unknown>;
  /** The ONNX values feeding this call, in the order of the layer's inputs. */
  inputs: OnnxValue[];
  /** TF.js (channels-last) shapes of those inputs, null for dynamic dimensions. */
  inputShapes: (number | null)[][];
  /** TF.js (channels-last) shapes of this call's outputs. */
  outputShapes: (number | null)[][];
  /** Base for value names made by this layer. */
  baseName: string;
  /** The layer's weights, in `layer.weights` order. */
  weights(): LayerWeight[];
  /** Whether input `i` is read by this layer only (not another layer, not a model output). */
  inputIsExclusive(i: number): boolean;
  /** Throws the converter's UNSUPPORTED_CONFIG error naming this layer, its class and index. */
  unsupported(what: string): never;
}

/** Converts one call of a layer; returns one ONNX value per layer output. */
export type LayerConverter = (ctx: LayerConversionContext) => OnnxValue | OnnxValue[];

const converters = new Map<string, LayerConverter>();

/**
 * Makes layers whose `getClassName()` is `className` convertible. A later registration replaces an earlier one,
 * so a user can also override a built-in converter.
 */
export function registerLayerConverter(className: string, converter: LayerConverter): void {
  converters.set(className, converter);
}

export function layerConverter(className: string): LayerConverter | undefined {
  return converters.get(className);
}

export function registeredLayerClasses(): string[] {
  return [...converters.keys()].sort();
}
