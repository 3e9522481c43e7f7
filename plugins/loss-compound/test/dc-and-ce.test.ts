/**
 * dc-and-ce and dc-and-bce against torch transcriptions of nnU-Net's DC_and_CE_loss and DC_and_BCE_loss
 * (fixtures/make_dc_and_ce_cases.py), with class-index targets and region masks as nnU-Net takes them; their parts
 * are the registered cross-entropy and dice losses.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { isRwsegError, PluginRegistry, tf, useBackend } from '@rwseg/core';
import { type RwsegPlugin } from '@rwseg/core/plugin';
import plugin from '../src/index.js';

interface Case {
  loss: 'dc-and-ce' | 'dc-and-bce';
  source: string;
  options: Record<string, unknown>;
  probs: number[];
  /** Class indices (dc-and-ce) or a multi-label region mask, channels-last (dc-and-bce). */
  labels?: number[];
  target?: number[];
  expected: number;
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/dc-and-ce-cases.json', import.meta.url), 'utf8'),
) as Case[];
let registry: PluginRegistry;

test.before(async () => {
  await useBackend('cpu');
  registry = new PluginRegistry();
  for (const name of ['@rwseg/plugin-loss-cross-entropy', '@rwseg/plugin-loss-dice']) {
    const part = (await import(name)) as { default: RwsegPlugin };
    registry.register(part.default, name);
  }
  registry.register(plugin, plugin.name);
});

for (const c of cases) {
  test(c.source, (t) => {
    const loss = registry.createLoss(c.loss, c.options);
    const target = tf.tensor((c.labels ?? c.target)!);
    const got = loss.compute({ probs: tf.tensor(c.probs), target, maps: {}, context: { epoch: 0 } }).dataSync()[0]!;
    t.true(Math.abs(got - c.expected) < 2e-6 * Math.max(1, Math.abs(c.expected)), `got ${got}, nnU-Net ${c.expected}`);
  });
}

test("dc-and-ce is CE + Dice loss - 1 with nnU-Net's Dice options, and its inputs are checked once, by name", (t) => {
  const c = cases.find((x) => x.loss === 'dc-and-ce')!;
  const probs = tf.tensor(c.probs);
  const target = tf.tensor(c.labels!);
  const input = { probs, target, maps: {}, context: { epoch: 0 } };
  const ce = registry.createLoss('cross-entropy').compute(input).dataSync()[0]!;
  const dice = registry
    .createLoss('dice', { smoothNr: 1e-5, smoothDr: 1e-5, includeBackground: false })
    .compute(input)
    .dataSync()[0]!;
  t.true(Math.abs(registry.createLoss('dc-and-ce').compute(input).dataSync()[0]! - (ce + dice - 1)) < 1e-6);
  const bad = t.throws(() => registry.createLoss('dc-and-ce').compute({ ...input, target: tf.fill(target.shape, 7) }));
  t.true(isRwsegError(bad, 'INVALID_INPUT'));
  t.regex(
    bad!.message,
    /^loss 'dc-and-ce' \(plugin @rwseg\/plugin-loss-compound\): loss 'cross-entropy' .*target class index 7 at 0, 0, 0 is not an integer in 0\.\.2/,
  );
});
