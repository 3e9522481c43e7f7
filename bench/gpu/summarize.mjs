#!/usr/bin/env node
// Turns bench/gpu results.jsonl into the Markdown tables docs/BENCHMARKS.md holds. No dependencies.
// Usage: node bench/gpu/summarize.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const gpu = rows.find((r) => r.what === 'nvidia-smi');
const adapter = rows.find((r) => r.adapter)?.adapter;
const lines = [];
if (gpu) lines.push(`GPU (nvidia-smi): ${gpu.gpu}`);
if (adapter)
  lines.push(
    `WebGPU adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.device} | driver: ${adapter.description}${adapter.isSoftware ? ' (software)' : ''}`,
  );
const torch = rows.find((r) => r.what.startsWith('torch'));
if (torch) lines.push(`PyTorch ${torch.torch} on ${torch.device}`);
const cell = (r) =>
  r === undefined ? '-' : r.error ? `error: ${r.error.slice(0, 60)}` : String(r.msPerStep ?? r.msPerInference);

const train = rows.filter((r) => r.msPerStep !== undefined || (r.error && r.what.match(/^(tfjs|torch)/)));
if (train.length > 0) {
  const first = train[0];
  lines.push(
    '',
    `Training step, ms (U-Net 2D base ${first.base} depth ${first.depth}, ${first.size}x${first.size}, ${first.parameters} parameters, Adam, fp32):`,
    '',
  );
  const whats = [...new Set(train.map((r) => r.what))];
  lines.push(
    `| batch | ${whats.join(' | ')} | ratio ${whats[0]} / ${whats.at(-1)} |`,
    `|---|${whats.map(() => '---|').join('')}---|`,
  );
  for (const batch of [...new Set(train.map((r) => r.batch))]) {
    const byWhat = whats.map((w) => train.find((r) => r.what === w && r.batch === batch));
    const [a, b] = [byWhat[0]?.msPerStep, byWhat.at(-1)?.msPerStep];
    lines.push(`| ${batch} | ${byWhat.map(cell).join(' | ')} | ${a && b ? (a / b).toFixed(2) : '-'} |`);
  }
}
const infer = rows.filter((r) => r.what.startsWith('ort-'));
if (infer.length > 0) {
  lines.push(
    '',
    `ONNX inference, ms (onnxruntime ${infer.find((r) => r.ort)?.ort ?? ''}, ${infer[0].size}x${infer[0].size}):`,
    '',
  );
  lines.push('| provider | batch | ms | max abs diff vs cpu |', '|---|---|---|---|');
  for (const r of infer)
    lines.push(
      `| ${r.what.slice(4)} | ${r.batch ?? '-'} | ${cell(r)} | ${r.maxAbsDiffVsCpu?.toExponential(1) ?? '-'} |`,
    );
}
console.log(lines.join('\n'));
