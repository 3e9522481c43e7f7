/** Losses must train on every backend: their gradients on wasm, whose kernel set is smaller than cpu's. */
import test from 'ava';
import { finiteDifferenceLogitGradient, logitGradient, tf, useBackend, type PluginRegistry } from '../../src/index.js';
import { GRADIENT_CASES, gradientCase, lossRegistry, maxAbsDiff } from '../helpers/losses.js';

let registry: PluginRegistry;
test.before(async () => {
  await useBackend('wasm');
  registry = await lossRegistry();
});

test('every loss has a gradient on the wasm backend, matching central finite differences', (t) => {
  t.is(tf.getBackend(), 'wasm');
  for (const [name, options] of GRADIENT_CASES) {
    const { loss, logits, rest } = gradientCase(registry, name, options, 23);
    const analytic = logitGradient(loss, logits, rest);
    const numeric = finiteDifferenceLogitGradient(loss, logits, rest);
    const scale = Math.max(...analytic.map(Math.abs));
    t.true(
      maxAbsDiff(analytic, numeric) < 2e-3 * Math.max(scale, 1e-2),
      `${name} ${JSON.stringify(options)}: ${maxAbsDiff(analytic, numeric)}`,
    );
  }
});
