/**
 * Start-up check that the active backend can train a model: one tiny forward + backward pass per layer type, so a
 * missing gradient kernel (wasm lacks Conv2DBackpropFilter without rwseg's kernels; some backends lack 3D ones)
 * fails in a second with the kernel and backend named, instead of at the first backward pass of a long run.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { BackendError } from './errors.js';
import { tf } from './tf.js';

/** Layer types with a built-in probe, by tfjs-layers class name. */
const PROBES: Record<string, { make: () => tfl.layers.Layer; inputs: number[][] }> = {
  Conv2D: { make: () => tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), inputs: [[2, 5, 5, 2]] },
  Conv2DTranspose: {
    make: () => tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
    inputs: [[2, 4, 4, 2]],
  },
  Conv3D: { make: () => tfl.layers.conv3d({ filters: 3, kernelSize: 3, padding: 'same' }), inputs: [[1, 4, 4, 4, 2]] },
  Conv3DTranspose: {
    make: () => tfl.layers.conv3dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
    inputs: [[1, 2, 2, 2, 2]],
  },
  BatchNormalization: { make: () => tfl.layers.batchNormalization(), inputs: [[2, 4, 4, 3]] },
  MaxPooling2D: { make: () => tfl.layers.maxPooling2d({ poolSize: 2 }), inputs: [[2, 4, 4, 2]] },
  MaxPooling3D: { make: () => tfl.layers.maxPooling3d({ poolSize: 2 }), inputs: [[1, 4, 4, 4, 2]] },
  AveragePooling2D: { make: () => tfl.layers.averagePooling2d({ poolSize: 2 }), inputs: [[2, 4, 4, 2]] },
  UpSampling2D: { make: () => tfl.layers.upSampling2d({ size: [2, 2] }), inputs: [[2, 3, 3, 2]] },
  LeakyReLU: { make: () => tfl.layers.leakyReLU({ alpha: 0.01 }), inputs: [[2, 4, 4, 2]] },
  ReLU: { make: () => tfl.layers.reLU(), inputs: [[2, 4, 4, 2]] },
  Softmax: { make: () => tfl.layers.softmax({ axis: -1 }), inputs: [[2, 4, 4, 3]] },
  Concatenate: {
    make: () => tfl.layers.concatenate({ axis: -1 }),
    inputs: [
      [2, 4, 4, 2],
      [2, 4, 4, 3],
    ],
  },
  Dense: { make: () => tfl.layers.dense({ units: 3 }), inputs: [[2, 5]] },
};

/** Layer classes that compute nothing worth probing. */
const INERT = new Set(['InputLayer', 'Dropout', 'SpatialDropout1D', 'GaussianNoise']);

export interface TrainingKernelCheck {
  backend: string;
  /** The layer types probed, forward and backward. */
  checked: string[];
  /** Layer types without a probe: they were not checked (their kernels show up at the first step). */
  unchecked: string[];
}

/**
 * Probes every layer type of `modelOrLayerTypes` (a LayersModel, or tfjs-layers class names such as 'Conv2D',
 * 'BatchNormalization') on the active backend. Probes use fresh layers built from each layer's config (on tiny
 * inputs), so the model itself (weights, batch-norm statistics) is left untouched. Throws BackendError
 * 'BACKEND_ERROR' naming the missing kernel, the layer and the backend.
 */
export function checkTrainingKernels(modelOrLayerTypes: tfl.LayersModel | readonly string[]): TrainingKernelCheck {
  const backend = tf.getBackend();
  const targets = collectTargets(modelOrLayerTypes);
  const checked: string[] = [];
  const unchecked: string[] = [];
  for (const [type, target] of targets) {
    const probe = PROBES[type];
    const fromModel = target !== null ? probeFromLayer(target) : null;
    if (fromModel === null && probe === undefined) {
      unchecked.push(type);
      continue;
    }
    try {
      if (fromModel !== null) runProbe(fromModel.layer, fromModel.inputs);
      else if (probe !== undefined) runProbe(probe.make(), probe.inputs);
    } catch (error) {
      throw kernelError(error, type, backend);
    }
    checked.push(type);
  }
  return { backend, checked, unchecked };
}

function collectTargets(modelOrLayerTypes: tfl.LayersModel | readonly string[]): Map<string, tfl.layers.Layer | null> {
  const targets = new Map<string, tfl.layers.Layer | null>();
  if (Array.isArray(modelOrLayerTypes)) {
    for (const type of modelOrLayerTypes as readonly string[]) {
      if (PROBES[type] === undefined && !INERT.has(type)) {
        throw new BackendError(
          'INVALID_INPUT',
          `checkTrainingKernels: no probe for layer type '${type}'; known types: ${Object.keys(PROBES).join(', ')}`,
          { type },
        );
      }
      if (!INERT.has(type)) targets.set(type, null);
    }
    return targets;
  }
  for (const layer of (modelOrLayerTypes as tfl.LayersModel).layers) {
    const type = layer.getClassName();
    // Activation layers differ by their function, so each activation is its own probe.
    const key = type === 'Activation' ? `Activation(${String(layer.getConfig()['activation'])})` : type;
    if (!INERT.has(type) && !targets.has(key)) targets.set(key, layer);
  }
  return targets;
}

/**
 * A fresh copy of `layer` (same class and config) with tiny inputs of the layer's rank and channel counts.
 * Null when the layer's input shape is unknown.
 */
function probeFromLayer(layer: tfl.layers.Layer): { layer: tfl.layers.Layer; inputs: number[][] } | null {
  let shapes: (number | null)[][];
  try {
    const input = layer.getInputAt(0);
    shapes = (Array.isArray(input) ? input : [input]).map((t) => t.shape);
  } catch {
    return null;
  }
  const config = { ...layer.getConfig() };
  delete config['batchInputShape'];
  delete config['inputShape'];
  const LayerClass = layer.constructor as new (config: unknown) => tfl.layers.Layer;
  // Spatial dims shrink to 4 (any U-Net level divides it); batch 2 so batch statistics are defined.
  const inputs = shapes.map((shape) =>
    shape.map((d, axis) => (axis === 0 ? 2 : axis === shape.length - 1 ? (d ?? 2) : 4)),
  );
  return { layer: new LayerClass(config), inputs };
}

function runProbe(layer: tfl.layers.Layer, shapes: number[][]): void {
  try {
    tf.tidy(() => {
      const xs = shapes.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 11 + i), true));
      const apply = () => {
        const out = layer.apply(xs.length === 1 ? (xs[0] as tf.Tensor) : xs, { training: true }) as tf.Tensor;
        // Random weights give a non-uniform upstream gradient (a plain sum through softmax would be all zeros).
        return tf.sum(tf.mul(out, tf.randomNormal(out.shape, 0, 1, 'float32', 7))) as tf.Scalar;
      };
      apply(); // builds the layer's weights
      const variables = [...xs, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      const { grads } = tf.variableGrads(apply, variables);
      // Read back so asynchronous backends (webgpu) surface kernel failures here.
      for (const grad of Object.values(grads)) grad.dataSync();
      for (const x of xs) x.dispose();
    });
  } finally {
    if (layer.built) layer.dispose();
  }
}

function kernelError(error: unknown, type: string, backend: string): BackendError {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(message);
  if (missing !== null) {
    return new BackendError(
      'BACKEND_ERROR',
      `backend '${backend}' cannot train layer ${type}: kernel ${missing[1]} is not registered for it. ` +
        `Choose another backend (--backend), or for wasm make sure rwseg's kernels are registered (useBackend('wasm') does it); see docs/backends.md`,
      { backend, layer: type, kernel: missing[1] },
      { cause: error },
    );
  }
  const noGradient = /gradient function not found for (\w+)/.exec(message);
  if (noGradient !== null) {
    return new BackendError(
      'BACKEND_ERROR',
      `layer ${type} cannot be trained: TF.js ${tf.version_core} has no gradient for kernel ${noGradient[1]} on any backend ` +
        `(rwseg registers the gradients TF.js lacks that it knows of, such as conv3dTranspose's); see docs/backends.md`,
      { backend, layer: type, kernel: noGradient[1] },
      { cause: error },
    );
  }
  return new BackendError(
    'BACKEND_ERROR',
    `backend '${backend}' failed a training probe of layer ${type}: ${message}`,
    { backend, layer: type },
    { cause: error },
  );
}
