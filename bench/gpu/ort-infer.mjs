#!/usr/bin/env node
// Milliseconds per inference of an ONNX segmentation model (input 'image' [N, 1, S, S]) with onnxruntime-node,
// per execution provider and batch size; the CPU provider is the anchor. Also checks that each provider's output
// matches the CPU provider's (largest absolute difference). Prints one JSON line per provider and batch.
// Usage: node bench/gpu/ort-infer.mjs --model unet.onnx [--size 256] [--batches 1,4] [--providers webgpu,cpu]
//   [--runs 10] [--warmup 2]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    size: { type: 'string', default: '256' },
    batches: { type: 'string', default: '1,4' },
    providers: { type: 'string', default: 'webgpu,cpu' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
  },
});
if (!a.model) throw new Error('--model is required');
process.env.XDG_RUNTIME_DIR ||= '/tmp';
const model = readFileSync(a.model);
const size = Number(a.size);
const providers = a.providers.split(',');
const reference = new Map();

// cpu first: every other provider is compared with it.
for (const provider of ['cpu', ...providers.filter((p) => p !== 'cpu')]) {
  let session;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: [provider] });
  } catch (error) {
    console.log(JSON.stringify({ what: `ort-${provider}`, error: String(error.message ?? error).slice(0, 300) }));
    continue;
  }
  for (const batch of a.batches.split(',').map(Number)) {
    const data = Float32Array.from({ length: batch * size * size }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
    const feeds = { image: new ort.Tensor('float32', data, [batch, 1, size, size]) };
    const row = { what: `ort-${provider}`, ort: ort.env.versions?.common, batch, size };
    try {
      let out;
      for (let i = 0; i < Number(a.warmup); i++) out = await session.run(feeds);
      const start = performance.now();
      for (let i = 0; i < Number(a.runs); i++) out = await session.run(feeds);
      row.msPerInference = Number(((performance.now() - start) / Number(a.runs)).toFixed(2));
      const values = out[session.outputNames[0]].data;
      if (provider === 'cpu') reference.set(batch, values);
      else if (reference.has(batch))
        row.maxAbsDiffVsCpu = values.reduce((m, v, i) => Math.max(m, Math.abs(v - reference.get(batch)[i])), 0);
    } catch (error) {
      row.error = String(error.message ?? error).slice(0, 300);
    }
    console.log(JSON.stringify(row));
  }
  await session.release();
}
