/**
 * Whether a checkpoint was written by a model like the one a run builds, judged from its convolution kernels:
 * kernel rank is the model's dimensionality + 2 (HWIO or DHWIO), the first kernel's input axis is the image channel
 * count, the last one's output axis the class count. `--resume` into a folder trained with another patch rank or on
 * other data is the usual way to get here; the weight-by-weight check would only say that two shapes differ.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { RwsegError } from '../errors.js';

interface NamedShape {
  readonly name: string;
  readonly shape: readonly number[];
}

const isKernel = (w: NamedShape) => w.shape.length >= 4 && /kernel$/.test(w.name);
const kernelText = (w: NamedShape) => `kernel ${w.name} [${w.shape.join(', ')}]`;
const ELSEWHERE = 'or train into another output folder';

/** Throws naming the checkpoint, the two models and what to do, when dimensionality, channels or classes differ. */
export function checkCheckpointFitsModel(saved: readonly NamedShape[], file: string, model: tfl.LayersModel): void {
  const savedKernels = saved.filter(isKernel);
  const modelWeights = model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
  const modelKernels = modelWeights.filter(isKernel);
  const [savedFirst, modelFirst] = [savedKernels[0], modelKernels[0]];
  if (!savedFirst || !modelFirst) return;
  const patch = (model.inputs[0]!.shape.slice(1, -1) as number[]).join(', ');
  const savedDims = savedFirst.shape.length - 2;
  const modelDims = modelFirst.shape.length - 2;
  if (savedDims !== modelDims) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `checkpoint ${file} was written by a ${savedDims}D model (${kernelText(savedFirst)}) but this run builds a ` +
        `${modelDims}D model for patch [${patch}]: resume with a ${savedDims}D preprocessing.patch, as that run had, ` +
        ELSEWHERE,
      { file, savedDims, modelDims },
    );
  }
  const savedChannels = savedFirst.shape.at(-2)!;
  const modelChannels = modelFirst.shape.at(-2)!;
  if (savedChannels !== modelChannels) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `checkpoint ${file} was written for images with ${savedChannels} channel(s) (${kernelText(savedFirst)}) but ` +
        `this run's images have ${modelChannels}: resume on the data that run trained on, ${ELSEWHERE}`,
      { file, savedChannels, modelChannels },
    );
  }
  const [savedLast, modelLast] = [savedKernels.at(-1)!, modelKernels.at(-1)!];
  if (savedLast.shape.at(-1) !== modelLast.shape.at(-1) && savedKernels.length === modelKernels.length) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `checkpoint ${file} predicts ${savedLast.shape.at(-1)} classes (${kernelText(savedLast)}) but this run's ` +
        `dataset has ${modelLast.shape.at(-1)}: resume on the data that run trained on, ${ELSEWHERE}`,
      { file },
    );
  }
}
