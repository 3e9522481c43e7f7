// The U-Net the inference benchmarks share (rwseg's shape: two conv-BN-ReLU per level, max-pool down, transposed
// conv up, skip concat, softmax head). `depth` counts the pooling steps; tfl is the caller's tfjs-layers.
export function benchUNet(tfl, { depth, base, classes = 3, inputName } = {}) {
  const block = (x, f, name) => {
    for (const i of [0, 1]) {
      x = tfl.layers
        .conv2d({ filters: f, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_conv${i}` })
        .apply(x);
      x = tfl.layers.batchNormalization({ name: `${name}_bn${i}` }).apply(x);
      x = tfl.layers.reLU({ name: `${name}_relu${i}` }).apply(x);
    }
    return x;
  };
  const input = tfl.input({ shape: [null, null, 1], ...(inputName ? { name: inputName } : {}) });
  const skips = [];
  let x = input;
  for (let l = 0; l <= depth; l++) {
    if (l > 0) x = tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${l}` }).apply(x);
    x = block(x, base * 2 ** l, `enc${l}`);
    skips.push(x);
  }
  for (let l = depth - 1; l >= 0; l--) {
    x = tfl.layers.conv2dTranspose({ filters: base * 2 ** l, kernelSize: 2, strides: 2, name: `up${l}` }).apply(x);
    x = tfl.layers.concatenate({ name: `cat${l}` }).apply([skips[l], x]);
    x = block(x, base * 2 ** l, `dec${l}`);
  }
  const output = tfl.layers.conv2d({ filters: classes, kernelSize: 1, activation: 'softmax', name: 'head' }).apply(x);
  return tfl.model({ inputs: input, outputs: output });
}
