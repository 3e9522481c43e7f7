#!/usr/bin/env node
// Turns a sweep folder written by `rwseg pipeline run` (<out>/<loss>/seed-<n>/summary.json + history.jsonl) into
// what docs/RESULTS.md shows: per loss and class, Dice, HD95 and HD as mean ± sd over seeds (over validation
// cases when there is one seed), the largest HD of any case, the stability figure, and SVG plots of mean
// foreground validation Dice over epochs per loss. The pipeline's own comparison.md has the same
// Dice/HD rows; this adds the stability figure, best Dice and the plots.
// Usage (after `npx tsc -b`): node bench/comparison-report.mjs SWEEP_DIR [--plots DIR] > report.md
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunHistory } from '@rwseg/core/artifact';
import { lineChartSvg } from '@rwseg/core/plots';

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n - 1); 0 for one value. */
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const finite = (xs) => xs.filter(Number.isFinite);
const fmt = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const pm = (xs, digits) => (xs.length ? `${fmt(mean(xs), digits)} ± ${fmt(sd(xs), digits)}` : 'n/a');

/** Every (loss, seed) run of a sweep, in the order of the pipeline's comparison.csv when there is one. */
export function readSweep(dir) {
  // The sweep's order where comparison.csv gives it, then any other loss folder (a loss whose runs had nothing
  // to report is missing from the CSV but may have been rerun since).
  const csv = path.join(dir, 'comparison.csv');
  const ordered = existsSync(csv)
    ? readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0])
    : [];
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const listed = [...new Set([...ordered.filter((l) => folders.includes(l)), ...folders])];
  return listed
    .map((loss) => {
      const lossDir = path.join(dir, loss);
      const seeds = readdirSync(lossDir).filter(
        (s) => /^seed-\d+$/.test(s) && existsSync(path.join(lossDir, s, 'summary.json')),
      );
      const runs = seeds.map((s) => ({
        seed: Number(s.slice(5)),
        dir: path.join(lossDir, s),
        summary: JSON.parse(readFileSync(path.join(lossDir, s, 'summary.json'), 'utf8')),
      }));
      // A run without a final validation (unfinished, or re-opened with --resume after it had finished) cannot be
      // reported: say so instead of averaging nothing.
      for (const r of runs.filter((r) => !r.summary.finalValidation))
        console.error(`${r.dir}: summary.json has no finalValidation; left out`);
      return {
        loss,
        runs: runs
          .filter((r) => r.summary.finalValidation)
          .map((r) => ({
            ...r,
            history: readRunHistory(r.dir), // 1-based epochs (older 0-based files renumbered)
          })),
      };
    })
    .filter((l) => l.runs.length > 0);
}

/** One row per loss and class. With several seeds, mean ± sd of the per-seed means; with one, over its cases. */
export function summarize(sweep) {
  const rows = [];
  for (const { loss, runs } of sweep) {
    const classes = runs[0].summary.finalValidation.classes.map((c) => c.classIndex);
    for (const k of classes) {
      const perCase = (run, key) =>
        finite(run.summary.finalValidation.cases.map((c) => c.metrics.find((m) => m.classIndex === k)?.[key]));
      const over = (key) =>
        runs.length > 1 ? runs.map((r) => mean(perCase(r, key))).filter(Number.isFinite) : perCase(runs[0], key);
      const hdAll = runs.flatMap((r) => perCase(r, 'hd'));
      const stab = runs.map((r) => r.summary.stability);
      rows.push({
        loss,
        classIndex: k,
        seeds: runs.length,
        cases: runs[0].summary.finalValidation.cases.length,
        dice: over('dice'),
        hd95: over('hd95'),
        hd: over('hd'),
        hdMax: hdAll.length ? Math.max(...hdAll) : NaN,
        bestDice: runs.map((r) => r.summary.bestDice),
        drops: stab.map((s) => s.drops),
        largestDrop: stab.map((s) => s.largestDrop),
        totalDrop: stab.map((s) => s.totalDrop),
        finalSd: stab.map((s) => s.finalSd),
      });
    }
  }
  return rows;
}

export function markdownTable(rows) {
  const many = rows.some((r) => r.seeds > 1);
  const over = many ? 'over seeds' : 'over validation cases';
  const lines = [
    `| loss | class | Dice (${over}) | HD95 px (${over}) | HD px (${over}) | HD max px | best Dice | drops | largest drop | total drop | final sd |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const show = (xs, digits) => (xs.length > 1 ? pm(xs, digits) : fmt(xs[0], digits));
  for (const r of rows) {
    lines.push(
      `| ${r.loss} | ${r.classIndex} | ${pm(r.dice, 3)} | ${pm(r.hd95, 1)} | ${pm(r.hd, 1)} | ${fmt(r.hdMax, 1)} | ${show(r.bestDice, 3)} | ${show(r.drops, 1)} | ${show(r.largestDrop, 3)} | ${show(r.totalDrop, 3)} | ${show(r.finalSd, 3)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Losses grouped for readable plots: single losses, RRW combinations, Boundary combinations (Dice in each). */
export function plotGroups(losses) {
  const rrw = losses.filter((l) => l.startsWith('rrw+'));
  const boundary = losses.filter((l) => /^boundary\+/.test(l));
  const single = losses.filter((l) => !rrw.includes(l) && !boundary.includes(l));
  const withDice = (g) => (losses.includes('dice') && !g.includes('dice') ? ['dice', ...g] : g);
  const groups = [
    ['single losses', single],
    ['RRW combinations', rrw],
    ['Boundary (RW map) combinations', boundary],
  ];
  return groups.filter(([, g]) => g.length > 0).map(([title, g], i) => [title, i === 0 ? g : withDice(g)]);
}

/** Writes one SVG per group: mean foreground validation Dice per epoch, averaged over seeds. */
export function writePlots(sweep, dir) {
  mkdirSync(dir, { recursive: true });
  const curve = ({ runs }) => {
    const byEpoch = new Map();
    for (const r of runs)
      for (const h of r.history)
        if (h.validation) byEpoch.set(h.epoch, [...(byEpoch.get(h.epoch) ?? []), h.validation.meanDice]);
    return [...byEpoch].sort((a, b) => a[0] - b[0]).map(([e, ds]) => [e, mean(ds)]);
  };
  const files = [];
  for (const [title, group] of plotGroups(sweep.map((l) => l.loss))) {
    const series = group.map((loss) => ({ name: loss, points: curve(sweep.find((l) => l.loss === loss)) }));
    const file = path.join(dir, `validation-dice-${title.split(' ')[0].toLowerCase()}.svg`);
    writeFileSync(
      file,
      lineChartSvg(series, {
        title: `Validation Dice per epoch: ${title}`,
        xLabel: 'epoch',
        yLabel: 'mean foreground Dice',
      }),
    );
    files.push(file);
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, ...rest] = process.argv.slice(2);
  if (!dir || !existsSync(dir)) {
    console.error(
      'usage: node bench/comparison-report.mjs SWEEP_DIR [--plots DIR]   (SWEEP_DIR: the --out of a pipeline with a sweep)',
    );
    process.exit(2);
  }
  const sweep = readSweep(dir);
  if (sweep.length === 0) {
    console.error(`${dir}: no <loss>/seed-<n>/summary.json found: is it the --out folder of a sweep?`);
    process.exit(2);
  }
  const plotsAt = rest[0] === '--plots' ? rest[1] : undefined;
  process.stdout.write(markdownTable(summarize(sweep)));
  if (plotsAt) for (const f of writePlots(sweep, plotsAt)) console.error(`wrote ${f}`);
}
