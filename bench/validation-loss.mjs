// What the validation loss (packages/core/src/training/validation-loss.ts) adds to a validation pass: the
// quickstart's validation (synthetic 96x96 cases, 64x64 windows, U-Net depth 4 base 8, wasm) without the loss,
// with it on a cold map cache (the first validation of a run: rrw maps computed per window) and on a warm one
// (every later validation), alternating in each round so a loaded machine slows all three alike.
// Usage (after `npx tsc -b`): node bench/validation-loss.mjs [--cases 8] [--size 96] [--patch 64] [--rounds 3]
import { createRegistry, useBackend } from '@rwseg/core';
import { generateSyntheticCase, resolveSyntheticOptions } from '@rwseg/core/data';
import { buildLoss } from '@rwseg/core/losses';
import { computeSegmentationMetrics } from '@rwseg/core/metrics';
import { buildUNet, validate, ValidationLoss } from '@rwseg/core/training';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('cases', 8);
const size = arg('size', 96);
const patch = [arg('patch', 64), arg('patch', 64)];
const rounds = arg('rounds', 3);

await useBackend('wasm');
const registry = await createRegistry({ packageJson: false });
const loss = buildLoss(registry, { combine: ['rrw', 'dice'], weights: 'equal' });
const maps = loss.requiredMaps.map((m) => registry.createMapGenerator(m.map, { ...m.options }));
const synthetic = resolveSyntheticOptions({ size: [size, size], numClasses: 3, seed: 1 });
const cases = Array.from({ length: count }, (_, i) => {
  const c = generateSyntheticCase(synthetic, i);
  return { id: c.id, image: c.image, labels: c.label };
});
const model = buildUNet({ dims: 2, depth: 4, baseFilters: 8, numClasses: 3, seed: 1 }, patch);
const settings = { patch, numClasses: 3, metrics: computeSegmentationMetrics };

const time = async (fn) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};
await validate(model, cases.slice(0, 1), settings); // warm-up: kernels compiled, buffers allocated

const best = { plain: Infinity, cold: Infinity, warm: Infinity };
for (let r = 0; r < rounds; r++) {
  best.plain = Math.min(best.plain, await time(() => validate(model, cases, settings)));
  const validationLoss = new ValidationLoss({ loss, maps, numClasses: 3 });
  const withLoss = { ...settings, loss: { loss: validationLoss, epoch: 0 } };
  best.cold = Math.min(best.cold, await time(() => validate(model, cases, withLoss)));
  best.warm = Math.min(best.warm, await time(() => validate(model, cases, withLoss)));
}
const ms = (v) => `${v.toFixed(0)} ms`;
const ratio = (v) => `${(v / best.plain).toFixed(2)}x`;
console.table([
  { validation: 'without the loss', time: ms(best.plain), ratio: '1.00x' },
  { validation: 'with the loss, cold map cache (first validation)', time: ms(best.cold), ratio: ratio(best.cold) },
  { validation: 'with the loss, warm map cache (later ones)', time: ms(best.warm), ratio: ratio(best.warm) },
]);
console.log(
  `${count} cases ${size}x${size}, windows ${patch.join('x')}, loss ${loss.name}, best of ${rounds} rounds, ` +
    'wasm backend',
);
