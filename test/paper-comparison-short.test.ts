import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorText, parseJson, REPO_ROOT, runCli } from '@rwseg/test-helpers/cli';
import { SHARED_DATA, sharedTest } from '@rwseg/test-helpers/shared-data';

// The paper comparison's machinery on real data at a tiny budget: the shipped DSB 2018 pipeline, two losses, one
// seed, a few images and steps. It checks that the sweep completes and writes its tables, the stability figure
// and the report docs/RESULTS.md is made from; the values at this budget mean nothing and are not asserted.
const data = path.join(SHARED_DATA, 'dsb2018-nuclei-fluo256');

const LOSSES = ['dice', 'rrw+dice-gradual'];

sharedTest(
  'a short paper comparison (DSB 2018, dice vs rrw+dice gradual, 1 seed) writes comparison.md/.csv, stability and the report',
  async (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'rwseg-paper-short-'));
    const result = await runCli(
      [
        'pipeline',
        'run',
        'pipelines/paper-comparison-dsb2018-small.yaml',
        '--backend',
        'wasm',
        '--out',
        out,
        '--json',
        '--set',
        `dataset.images=${path.join(data, 'images')}`,
        '--set',
        `dataset.labels=${path.join(data, 'labels')}`,
        '--set',
        'dataset.limit=8',
        '--set',
        'training.epochs=3',
        '--set',
        'training.iterationsPerEpoch=3',
        '--set',
        'training.batchSize=2',
        '--set',
        'preprocessing.patch=[32, 32]',
        '--set',
        'model.depth=3',
        '--set',
        'sweep.losses=[{name: dice, loss: dice}, {name: rrw+dice-gradual, loss: {combine: [dice, rrw], weights: gradual}}]',
      ],
      { timeoutMs: 240_000 },
    );
    t.is(result.code, 0, errorText(result));
    const json = parseJson(result);
    t.deepEqual(
      json.runs.map((r: { name: string }) => r.name),
      LOSSES.map((l) => `${l}/seed-1`),
    );

    // comparison.md: header, separator, one row per loss; comparison.csv: one row per loss and foreground class.
    // Then, after a blank line, the paired tests against the reference (the first loss), in comparison-tests.csv too.
    const [first, paired] = readFileSync(path.join(out, 'comparison.md'), 'utf8').split('\n\n');
    t.is(paired, '## Paired tests against dice');
    const md = first!.trim().split('\n');
    t.is(md[0], '| loss | class | seeds | spread | Dice | HD95 (mm) | HD (mm) | HD max (mm) |');
    t.deepEqual(
      md.slice(2).map((l) => l.split('|')[1]!.trim()),
      LOSSES,
    );
    for (const row of md.slice(2)) t.regex(row, /\| 1 \| 1 \| sd over cases \| \d\.\d{3} ± \d\.\d{3} \|/);
    const csv = readFileSync(path.join(out, 'comparison.csv'), 'utf8').trim().split('\n');
    t.is(csv[0], 'loss,class,seeds,spread,dice_mean,dice_sd,hd95_mean,hd95_sd,hd_mean,hd_sd,hd_max,n');
    t.deepEqual(
      csv.slice(1).map((l) => l.split(',').slice(0, 2).join(',')),
      LOSSES.map((l) => `${l},1`),
    );
    const tests = readFileSync(path.join(out, 'comparison-tests.csv'), 'utf8').trim().split('\n');
    t.true(tests[0]!.startsWith('loss,reference,class,metric,pairs,'));
    const testRows = tests.slice(1).map((l) => l.split(','));
    t.deepEqual(
      testRows.map((r) => r.slice(0, 4).join(',')),
      ['dice', 'hd95', 'assd', 'nsd'].map((m) => `${LOSSES[1]},dice,1,${m}`),
    );
    // Every validation case of the one seed is paired (same split for both losses).
    t.true(testRows.every((r) => Number(r[4]) + Number(r[6]) > 0 && r[5] === '0'));

    // Each run keeps its history and the stability figure of its validation curve (one evaluation per epoch).
    for (const loss of LOSSES) {
      const run = path.join(out, loss, 'seed-1');
      const history = readFileSync(path.join(run, 'history.jsonl'), 'utf8').trim().split('\n');
      t.is(history.length, 3);
      const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
      t.is(summary.stability.evaluations, 3);
      for (const key of ['drops', 'largestDrop', 'totalDrop', 'finalSd', 'finalRange', 'finalMean'])
        t.true(Number.isFinite(summary.stability[key]), `${loss}: stability.${key}`);
    }

    // The report behind docs/RESULTS.md: one table row per loss, HD max and stability columns, one plotted curve per loss.
    const report = await import(pathToFileURL(path.join(REPO_ROOT, 'bench/comparison-report.mjs')).href);
    const sweep = report.readSweep(out);
    const table: string = report.markdownTable(report.summarize(sweep));
    t.regex(
      table,
      /\| loss \| class \| Dice \(over validation cases\) \| HD95 px .* \| HD px .* \| HD max px \| best Dice \| drops \|/,
    );
    t.deepEqual(
      table
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => l.split('|')[1]!.trim()),
      LOSSES,
    );
    const plots: string[] = report.writePlots(sweep, path.join(out, 'plots'));
    const svg = plots.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const loss of LOSSES) t.true(svg.includes(`data-name="${loss}"`), `${loss} curve plotted`);
  },
);
