/** Shared test helpers: backend setup, random weights, and the TF.js-vs-onnxruntime comparison. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { convertLayersModel, type ConvertOptions } from '../src/index.js';

export { tf };

export async function useCpuBackend(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Mulberry32: a tiny seeded generator so every test's weights and inputs are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => r() * 2 - 1),
    shape,
  );
}

/**
 * Replaces every weight with seeded random values (variances in [0.5, 1.5], so BatchNormalization is not the
 * identity its initial statistics make it), so a converter that ignored a weight would show.
 */
export function randomizeWeights(model: tfl.LayersModel, seed = 7): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const positive = /variance/.test(w.name);
      return tf.tensor(
        Float32Array.from({ length: n }, () => (positive ? 0.5 + r() : (r() * 2 - 1) * 0.5)),
        shape,
      );
    });
    if (values.length) layer.setWeights(values);
    tf.dispose(values);
  }
}

export interface Comparison {
  maxAbsError: number;
  shapes: number[][];
}

/** Converts `model`, runs it in onnxruntime (CPU EP) and TF.js on inputs of each given shape, returns the max error. */
export async function compareWithOnnx(
  model: tfl.LayersModel,
  inputShapes: number[][][],
  options: ConvertOptions = {},
): Promise<Comparison & { bytes: Uint8Array }> {
  const { bytes } = convertLayersModel(model, options);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  let maxAbsError = 0;
  const shapes: number[][] = [];
  try {
    for (const [c, shapesOfCase] of inputShapes.entries()) {
      const inputs = shapesOfCase.map((s, i) => randomTensor(s, 100 + 10 * c + i));
      const feeds: Record<string, ort.Tensor> = {};
      session.inputNames.forEach((name, i) => {
        feeds[name] = new ort.Tensor('float32', inputs[i]!.dataSync() as Float32Array, inputs[i]!.shape);
      });
      const out = await session.run(feeds);
      const predicted = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
      const expected = Array.isArray(predicted) ? predicted : [predicted];
      session.outputNames.forEach((name, i) => {
        const got = out[name]!;
        const want = expected[i]!;
        if (got.dims.join(',') !== want.shape.join(','))
          throw new Error(`output ${name}: ONNX shape [${got.dims}] vs TF.js [${want.shape}]`);
        const g = got.data as Float32Array;
        const w = want.dataSync();
        for (let k = 0; k < w.length; k++) maxAbsError = Math.max(maxAbsError, Math.abs(g[k]! - w[k]!));
        shapes.push([...want.shape]);
      });
      tf.dispose([...inputs, ...expected]);
    }
  } finally {
    await session.release();
  }
  return { maxAbsError, shapes, bytes };
}

/** Debian's python3 with the onnx module (python3-onnx); null when absent, with the reason. */
export function onnxCheckerAvailability(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync('/usr/bin/python3')) return { ok: false, reason: '/usr/bin/python3 is absent' };
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return {
      ok: false,
      reason: `python3-onnx is not installed (apt-get install -y python3-onnx): ${probe.stderr.trim().split('\n').pop()}`,
    };
  return { ok: true };
}

/** Runs onnx.checker.check_model (with full_check: shape inference too) on a file; returns its status and output. */
export function runOnnxChecker(path: string): { status: number | null; output: string } {
  const script = [
    'import sys, json, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'g = m.graph',
    'print(json.dumps({"producer": m.producer_name, "ir": m.ir_version, "opset": [o.version for o in m.opset_import],',
    '  "inputs": [i.name for i in g.input], "outputs": [o.name for o in g.output], "nodes": len(g.node),',
    '  "input_dims": [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in g.input]}))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
