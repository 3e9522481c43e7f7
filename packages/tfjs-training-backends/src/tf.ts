/**
 * The TF.js instance the kernels register into. It must be the one the application computes with: TF.js keeps its
 * kernel and gradient registries in module state, so this package depends on the same tfjs-core version as
 * @rwseg/core and npm installs one copy for both.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle registers them all on import,
// and the training kernels here are only ever reached through gradients.
import '@tensorflow/tfjs-layers';

export { tf };
export type Tensor = tf.Tensor;
