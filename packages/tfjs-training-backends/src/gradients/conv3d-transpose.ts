/**
 * TF.js 4.22 registers no gradient for Conv3DBackpropInputV2, the kernel behind conv3dTranspose, so a 3D U-Net
 * with transposed-convolution up-sampling cannot train on any backend. For y = conv3dTranspose(x, w) (the input
 * gradient of a conv3d), dL/dx is the forward conv3d of dL/dy with w, and dL/dw is conv3d's filter gradient
 * with the roles of input and output swapped: the same identities as tfjs-core's Conv2DBackpropInput gradient.
 */
import { tf } from '../tf.js';

const KERNEL = 'Conv3DBackpropInputV2';

export function registerConv3DTransposeGradient(): void {
  if (tf.getGradient(KERNEL)) return;
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, saved, attrs) => {
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as { strides: [number, number, number]; pad: 'valid' | 'same' };
      const grad = ddx as tf.Tensor5D;
      return {
        dy: () => tf.conv3d(grad, filter, strides, pad),
        filter: () =>
          tf
            .engine()
            .runKernel(
              'Conv3DBackpropFilterV2',
              { x: grad, dy },
              { strides, pad, filterShape: filter.shape },
            ) as tf.Tensor,
      };
    },
  });
}

registerConv3DTransposeGradient();
