/**
 * MONAI's published DiceLoss, GeneralizedDiceLoss and TverskyLoss test cases through rwseg's mapped options
 * (fixtures/make_monai_cases.py transcribes them and checks each against a numpy transcription of MONAI's formulas).
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { tf, useBackend } from '@rwseg/core';
import { overlapRegistry } from './helpers.js';

interface MonaiCase {
  loss: string;
  source: string;
  options: Record<string, unknown>;
  probs: number[];
  target: number[];
  expected: number[];
  /** This rwseg-independent numpy transcription's value, to float64 precision. */
  numpy: number[];
  /** The relative tolerance MONAI's test file asserts. */
  rtol: number;
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/monai-cases.json', import.meta.url), 'utf8'),
) as MonaiCase[];

test.before(async () => {
  await useBackend('cpu');
});

test('the fixture holds every transcribed case of the three MONAI test files', (t) => {
  const count = (loss: string) => cases.filter((c) => c.loss === loss).length;
  t.deepEqual([count('dice'), count('generalized-dice'), count('tversky')], [12, 12, 13]);
});

for (const c of cases) {
  test(`${c.source}: ${c.loss} ${JSON.stringify(c.options)}`, (t) => {
    const loss = overlapRegistry().createLoss(c.loss, c.options);
    const value = loss.compute({
      probs: tf.tensor(c.probs),
      target: tf.tensor(c.target),
      maps: {},
      context: { epoch: 0 },
    });
    const got = [...value.dataSync()];
    t.is(got.length, c.expected.length);
    // MONAI's own tolerance against its published value (atol for the zeros); float32 against float64 numpy.
    got.forEach((v, i) =>
      t.true(
        Math.abs(v - c.expected[i]!) <= c.rtol * Math.abs(c.expected[i]!) + 1e-6,
        `got ${got}, MONAI ${c.expected}`,
      ),
    );
    got.forEach((v, i) =>
      t.true(Math.abs(v - c.numpy[i]!) <= 2e-6 * Math.max(1, Math.abs(c.numpy[i]!)), `got ${got}, numpy ${c.numpy}`),
    );
  });
}
