/**
 * A data-parallel gradient worker (training/data-parallel.ts): its own TF.js engine on the trainer's backend (rwseg's
 * kernels registered by useBackend), the model rebuilt from its JSON topology, the loss rebuilt from its
 * configuration by a registry with the same plugins. Per step it takes the current weights and a share of the
 * batch and answers with that share's loss and flattened gradients.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '@rwseg/tfjs-training-backends';
import { createRegistry } from '../services/container.js';
import type { Batch } from '../data/batch.js';
import { serializeError } from '../errors.js';
import { buildLoss } from '../losses/combine.js';
import { lossSignature } from '../losses/loss-spec.js';
import { tf } from '../tf.js';
import type { GradientWorkerConfig, StepReply, StepRequest } from './data-parallel.js';
import { lossAndGradients } from './gradients.js';
import '../models/instance-norm.js';
// A 3D U-Net up-samples with conv3dTranspose, whose gradient TF.js lacks: importing @rwseg/tfjs-training-backends
// (above) registers it, in this thread too.

const port = parentPort!;
const config = workerData as GradientWorkerConfig;

try {
  await useBackend(config.backend);
  const registry = await createRegistry({
    plugins: config.plugins,
    ...(config.baseDir ? { baseDir: config.baseDir } : {}),
  });
  const loss = buildLoss(registry, config.loss);
  const model = await tfl.models.modelFromJSON({
    modelTopology: JSON.parse(config.modelTopology) as tf.io.ModelJSON['modelTopology'],
  } as tf.io.ModelJSON);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const shapes = variables.map((v) => v.shape.join('x')).join(',');
  if (shapes !== config.variableShapes) {
    throw new Error(
      `the rebuilt model's trainable weights [${shapes}] differ from the trainer's [${config.variableShapes}]`,
    );
  }
  port.on('message', (message: StepRequest) => {
    step(model, variables, loss, message).then(
      ({ reply, transfer }) => port.postMessage(reply, transfer),
      (error: unknown) =>
        port.postMessage({ type: 'error', step: message.step, error: serializeError(error) } satisfies StepReply),
    );
  });
  port.postMessage({ type: 'ready', loss: lossSignature(loss) } satisfies StepReply);
} catch (error) {
  port.postMessage({ type: 'init-error', error: serializeError(error) } satisfies StepReply);
}

async function step(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  loss: ReturnType<typeof buildLoss>,
  request: StepRequest,
): Promise<{ reply: StepReply; transfer: ArrayBuffer[] }> {
  let offset = 0;
  tf.tidy(() => {
    for (const v of variables) {
      v.assign(tf.tensor(request.weights.subarray(offset, offset + v.size), v.shape));
      offset += v.size;
    }
  });
  const result = await lossAndGradients(model, loss, request.share as Batch, {
    epoch: request.epoch,
    dsWeights: config.dsWeights,
    variables,
  });
  const flat = tf.tidy(() => tf.concat(result.grads.map((g) => tf.reshape(g, [-1]))));
  const grads = (await flat.data()) as Float32Array;
  tf.dispose([flat, ...result.grads]);
  return {
    reply: { type: 'grads', step: request.step, value: result.value, perScale: [...result.perScale], grads },
    transfer: [grads.buffer as ArrayBuffer],
  };
}
