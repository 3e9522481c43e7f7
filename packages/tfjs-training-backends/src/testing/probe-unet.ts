/**
 * A U-Net written with raw TF.js ops and seeded weights, used to check a backend against another (the same
 * loss and gradients from the same weights) and to time training steps (bench/gpu). It exercises every kernel a
 * U-Net training step needs, forward and backward: conv2d, conv2dTranspose, batch norm (batch statistics),
 * maxPool, concat, leakyRelu, softmax, log, mean.
 *
 * Layout NHWC. Per encoder level: two [3x3 conv -> batch norm -> leakyRelu(0.01)], then maxPool 2x2. Bottom: the
 * same two convs. Per decoder level: conv2dTranspose 2x2 stride 2 to half the channels, concat with the skip, the
 * same two convs. Head: 1x1 conv to `classes` and softmax. Filters double per level from `base`.
 * (Ronneberger et al., U-Net, MICCAI 2015, with batch norm; bench/gpu/torch_unet.py builds the same net.)
 */
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them (into the shared
// global registry) on import.
import '@tensorflow/tfjs-layers';
import { BackendError } from '../errors.js';
import { tf, type Tensor } from '../tf.js';

export interface ProbeUnetSpec {
  inChannels: number;
  classes: number;
  /** Filters at the top level. */
  base: number;
  /** Number of poolings; the image side must be divisible by 2^depth. */
  depth: number;
}

export type ProbeUnetWeights = Record<string, Tensor>;

/**
 * Deterministic uniform numbers in [low, high) (mulberry32), so every backend starts from the same weights and
 * inputs, independent of any backend's RNG.
 */
export function seededUniform(count: number, seed: number, low = 0, high = 1): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** The weight shapes of the net, by name, in creation order. */
export function probeUnetShapes(spec: ProbeUnetSpec): Array<[string, number[]]> {
  const shapes: Array<[string, number[]]> = [];
  const block = (name: string, cin: number, cout: number) => {
    for (const [k, from] of [
      [1, cin],
      [2, cout],
    ] as const) {
      shapes.push(
        [`${name}.conv${k}`, [3, 3, from, cout]],
        [`${name}.gamma${k}`, [cout]],
        [`${name}.beta${k}`, [cout]],
      );
    }
  };
  let cin = spec.inChannels;
  for (let level = 0; level <= spec.depth; level++) {
    const cout = spec.base * 2 ** level;
    block(level < spec.depth ? `enc${level}` : 'bottom', cin, cout);
    cin = cout;
  }
  for (let level = spec.depth - 1; level >= 0; level--) {
    const cout = spec.base * 2 ** level;
    shapes.push([`up${level}.kernel`, [2, 2, cout, cin]], [`up${level}.bias`, [cout]]);
    block(`dec${level}`, cout * 2, cout);
    cin = cout;
  }
  shapes.push(['head.kernel', [1, 1, cin, spec.classes]], ['head.bias', [spec.classes]]);
  return shapes;
}

/** Seeded weights: He-uniform kernels, unit gammas, zero betas and biases. */
export function probeUnetWeights(spec: ProbeUnetSpec, seed = 1): ProbeUnetWeights {
  const weights: ProbeUnetWeights = {};
  probeUnetShapes(spec).forEach(([name, shape], i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (/gamma/.test(name)) weights[name] = tf.ones(shape);
    else if (/beta|bias/.test(name)) weights[name] = tf.zeros(shape);
    else {
      const fanIn = shape[0]! * shape[1]! * (name.startsWith('up') ? shape[3]! : shape[2]!);
      const limit = Math.sqrt(6 / fanIn);
      weights[name] = tf.tensor(
        seededUniform(size, seed * 7919 + i).map((u) => (2 * u - 1) * limit),
        shape,
      );
    }
  });
  return weights;
}

function convBlock(x: Tensor, w: ProbeUnetWeights, name: string): Tensor {
  let y = x as tf.Tensor4D;
  for (const k of [1, 2]) {
    y = tf.conv2d(y, w[`${name}.conv${k}`] as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    y = tf.batchNorm(
      y,
      mean,
      variance,
      w[`${name}.beta${k}`] as tf.Tensor1D,
      w[`${name}.gamma${k}`] as tf.Tensor1D,
      1e-3,
    ) as tf.Tensor4D;
    y = tf.leakyRelu(y, 0.01) as tf.Tensor4D;
  }
  return y;
}

/** Class probabilities [N, H, W, classes] for images [N, H, W, inChannels]. */
export function probeUnetForward(spec: ProbeUnetSpec, w: ProbeUnetWeights, images: Tensor): Tensor {
  const [, h, wd] = images.shape;
  const step = 2 ** spec.depth;
  if (images.rank !== 4 || h! % step !== 0 || wd! % step !== 0) {
    throw new BackendError(
      'INVALID_INPUT',
      `probe U-Net of depth ${spec.depth} needs images [N, H, W, C] with H and W divisible by ${step}, got [${images.shape}]`,
    );
  }
  const skips: Tensor[] = [];
  let x = images;
  for (let level = 0; level < spec.depth; level++) {
    x = convBlock(x, w, `enc${level}`);
    skips.push(x);
    x = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') as Tensor;
  }
  x = convBlock(x, w, 'bottom');
  for (let level = spec.depth - 1; level >= 0; level--) {
    const skip = skips[level]! as tf.Tensor4D;
    const kernel = w[`up${level}.kernel`] as tf.Tensor4D;
    x = tf.add(
      tf.conv2dTranspose(
        x as tf.Tensor4D,
        kernel,
        [skip.shape[0], skip.shape[1], skip.shape[2], kernel.shape[2]],
        2,
        'same',
      ),
      w[`up${level}.bias`]!,
    );
    x = convBlock(tf.concat([x, skip], 3), w, `dec${level}`);
  }
  const logits = tf.add(tf.conv2d(x as tf.Tensor4D, w['head.kernel'] as tf.Tensor4D, 1, 'same'), w['head.bias']!);
  return tf.softmax(logits);
}

/** Mean cross-entropy of probabilities against one-hot targets, both [N, H, W, classes]. */
export function probeUnetLoss(probabilities: Tensor, oneHot: Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(tf.add(probabilities, 1e-7))), -1))) as tf.Scalar;
}

/**
 * One training step's loss and gradients on the current backend, read back to the host. The weights are the
 * variables of `w` (any tensors: they are wrapped). Everything created here is disposed.
 */
export async function probeUnetGradients(
  spec: ProbeUnetSpec,
  w: ProbeUnetWeights,
  images: Tensor,
  oneHot: Tensor,
): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const names = Object.keys(w);
  const { value, grads } = tf.tidy(() => {
    const f = (...xs: Tensor[]) => {
      const vars: ProbeUnetWeights = {};
      names.forEach((n, i) => (vars[n] = xs[i]!));
      return probeUnetLoss(probeUnetForward(spec, vars, images), oneHot);
    };
    return tf.valueAndGrads(f)(names.map((n) => w[n]!));
  });
  const out: Record<string, Float32Array> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = (await grads[i]!.data()) as Float32Array;
  const loss = (await value.data())[0]!;
  tf.dispose([value, ...grads]);
  return { loss, grads: out };
}
