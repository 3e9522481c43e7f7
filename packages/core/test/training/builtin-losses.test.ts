/**
 * Every built-in loss, as the registry builds it with its defaults and with the maps it declares computed by the
 * real map plugins, trains the U-Net: its value goes down over a few steps on one fixed batch. A loss whose
 * gradient had the wrong sign, vanished, or never reached the weights fails here.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildUNet, createRegistry, train, useBackend, type Batch, type PluginRegistry } from '../../src/index.js';
import { diskBatch, TINY_UNET } from '../helpers/toy-training.js';

const PATCH: [number, number] = [16, 16];
let registry: PluginRegistry;

test.before(async () => {
  await useBackend('cpu');
  registry = await createRegistry({ packageJson: false });
});

/** The fixed batch with the loss's maps computed per sample by the registered generators, as the loader does. */
function batchWithMaps(
  requests: readonly { map: string; options: Readonly<Record<string, unknown>>; key: string }[],
): Batch {
  const base = diskBatch(21, 2, PATCH);
  const scale = base.scales[0]!;
  const n = PATCH[0] * PATCH[1];
  const maps: Record<string, Float32Array> = {};
  for (const request of requests) {
    const generator = registry.createMapGenerator(request.map, request.options as Record<string, unknown>);
    const out = new Float32Array(base.size * n * base.numClasses);
    for (let b = 0; b < base.size; b++) {
      out.set(
        generator.generate({
          labels: scale.labels.subarray(b * n, (b + 1) * n),
          shape: PATCH,
          numClasses: base.numClasses,
          spacing: base.spacing,
        }),
        b * n * base.numClasses,
      );
    }
    maps[request.key] = out;
  }
  return { ...base, scales: [{ ...scale, maps }] };
}

test('every built-in loss decreases over a few training steps on a fixed batch', async (t) => {
  const names = registry.lossNames();
  t.true(names.length >= 8, names.join(', '));
  for (const name of names) {
    const loss = registry.createLoss(name);
    const batch = batchWithMaps(loss.requiredMaps);
    const values: number[] = [];
    await train({
      model: buildUNet(TINY_UNET, PATCH),
      loss,
      openData: () => ({ next: async () => batch, close: async () => {} }),
      epochs: 1,
      iterationsPerEpoch: 10,
      learningRate: 0.01,
      schedule: { name: 'constant' },
      seed: 4,
      outDir: mkdtempSync(path.join(tmpdir(), `rwseg-loss-${name}-`)),
      onEvent: (e) => {
        if (e.type === 'iteration') values.push(e.loss);
      },
    });
    const first = values[0]!;
    const last = values.slice(-3).reduce((a, b) => a + b, 0) / 3;
    t.true(Number.isFinite(first) && Number.isFinite(last), `${name}: finite values`);
    t.true(
      last < first - 0.02 * Math.max(1, Math.abs(first)),
      `${name}: loss went ${first.toFixed(4)} -> ${last.toFixed(4)} (${values.map((v) => v.toFixed(3)).join(' ')})`,
    );
  }
});
