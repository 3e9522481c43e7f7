/**
 * The training run's curves as SVG (plots/loss.svg, validation-dice.svg, validation-hd95.svg): classes named as
 * the dataset names them, the best validated epoch marked on every plot, whole-epoch ticks, and the validation
 * loss beside the training loss when the history has one.
 */
import { lineChartSvg, type Series } from './line-chart.js';

/** What the curves need of a history.jsonl line (training/trainer.ts HistoryEntry). */
export interface CurveHistoryEntry {
  readonly epoch: number;
  readonly loss: number;
  readonly validationLoss?: number;
  readonly validation?: {
    readonly meanDice: number;
    readonly classes: readonly { classIndex: number; dice: { mean: number }; hd95: { mean: number } }[];
  };
}

export interface TrainingCurveOptions {
  /** Names by class index, background first (the dataset's / model artifact's classNames). */
  readonly classNames?: readonly string[];
}

/** The epoch with the highest finite validation mean Dice (the first of equals, as the trainer keeps it). */
export function bestValidatedEpoch(history: readonly CurveHistoryEntry[]): { epoch: number; dice: number } | undefined {
  let best: { epoch: number; dice: number } | undefined;
  for (const e of history) {
    const dice = e.validation?.meanDice;
    if (dice !== undefined && Number.isFinite(dice) && (!best || dice > best.dice)) best = { epoch: e.epoch, dice };
  }
  return best;
}

/** File name -> SVG text, for each curve the history has data for. */
export function trainingCurveSvgs(
  history: readonly CurveHistoryEntry[],
  options: TrainingCurveOptions = {},
): Record<string, string> {
  const best = bestValidatedEpoch(history);
  const markers = best
    ? [{ x: best.epoch, label: `best epoch ${best.epoch} (mean Dice ${best.dice.toFixed(3)})` }]
    : [];
  const common = { xLabel: 'epoch', integerX: true, markers };
  const loss: Series[] = [{ name: 'training loss', points: history.map((e) => [e.epoch, e.loss]) }];
  const validatedLoss = history.filter((e) => e.validationLoss !== undefined);
  if (validatedLoss.length > 0) {
    loss.push({
      name: 'validation loss',
      dashed: true,
      points: validatedLoss.map((e) => [e.epoch, e.validationLoss!]),
    });
  }
  const out: Record<string, string> = { 'loss.svg': lineChartSvg(loss, { title: 'Loss', yLabel: 'loss', ...common }) };
  const validated = history.filter((e) => e.validation);
  if (validated.length === 0) return out;
  const classes = validated[0]!.validation!.classes.map((c) => c.classIndex);
  const name = (k: number) => options.classNames?.[k] ?? `class ${k}`;
  for (const [metric, label] of [
    ['dice', 'Dice'],
    ['hd95', 'HD95 (mm)'],
  ] as const) {
    const series = classes.map((k) => ({
      name: name(k),
      points: validated.map((e) => {
        const value = e.validation!.classes.find((c) => c.classIndex === k)?.[metric].mean ?? Number.NaN;
        return [e.epoch, value] as [number, number];
      }),
    }));
    const yDomain = metric === 'dice' ? ([0, 1] as const) : undefined;
    out[`validation-${metric}.svg`] = lineChartSvg(series, {
      title: `Validation ${label}`,
      yLabel: label,
      yDomain,
      ...common,
    });
  }
  return out;
}
