/**
 * The one TF.js instance every package and plugin shares. TF.js keeps its engine (backends, registered kernels,
 * gradient tape) in module state, so a plugin that imported its own copy of tfjs-core would compute on a backend
 * nobody selected. Plugins import `tf` from '@rwseg/core/plugin' instead.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle registers them all on import,
// so without this tf.grad fails ("gradient function not found for Neg").
import '@tensorflow/tfjs-layers';

export { tf };
export type Tensor = tf.Tensor;
export type Scalar = tf.Scalar;
