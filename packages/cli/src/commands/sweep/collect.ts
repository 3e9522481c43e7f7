import path from 'node:path';
import { Flags } from '@oclif/core';
import {
  collectionProgress,
  collectionTable,
  collectSweep,
  readSweepPlan,
  SWEEP_PLAN_FILE,
} from '@rwseg/core/pipeline';
import { RwsegCommand } from '../../base-command.js';

export default class SweepCollect extends RwsegCommand {
  static override summary =
    "Report a sweep's tasks (done, missing, running, stopped, failed) and write its comparison table.";
  static override description =
    "Reads every task's run folder of the plan. When all are done it writes <out>/comparison.md and comparison.csv " +
    '(validation cases of every fold pooled per loss); otherwise it exits 1, unless --partial, which compares the ' +
    "done runs only. --records copies each done run's record (config.json, summary.json, task.json, " +
    'history.jsonl; no model, no checkpoints) into a folder of the same layout, small enough to commit; --runs ' +
    "collects from such a folder instead of the plan's output folder (and writes the comparison there).";
  static override examples = [
    '<%= config.bin %> sweep collect --plan runs/paper/sweep-plan.json',
    '<%= config.bin %> sweep collect --plan runs/paper/sweep-plan.json --partial --json',
    '<%= config.bin %> sweep collect --plan runs/paper/sweep-plan.json --partial --records results/paper',
    '<%= config.bin %> sweep collect --plan runs/paper/sweep-plan.json --runs results/paper',
  ];
  static override flags = {
    plan: Flags.string({ description: `the plan file (default ./${SWEEP_PLAN_FILE})`, default: SWEEP_PLAN_FILE }),
    partial: Flags.boolean({ description: 'compare the done runs even when others are not done (exit 0)' }),
    runs: Flags.string({ description: "the folder holding the task folders (default: the plan's output folder)" }),
    records: Flags.string({ description: "copy each done run's record (no model, no checkpoints) into this folder" }),
  };

  async run() {
    const { flags } = await this.parse(SweepCollect);
    const plan = readSweepPlan(path.resolve(flags.plan));
    const collection = collectSweep(plan, {
      partial: flags.partial,
      ...(flags.runs ? { runs: flags.runs } : {}),
      ...(flags.records ? { records: flags.records } : {}),
    });
    if (!this.jsonEnabled()) {
      this.log(collectionTable(collection));
      this.log(collectionProgress(collection));
      if (collection.pairedTestsSkipped) this.log(collection.pairedTestsSkipped);
      if (collection.files) this.log(`comparison table: ${collection.files.join(' and ')}`);
      else if (!collection.complete)
        this.log('not every task is done: no comparison written (--partial compares the done ones)');
    } else {
      this.logger.info(collectionProgress(collection));
    }
    if (!collection.complete && !flags.partial) process.exitCode = 1;
    return {
      plan: plan.file,
      complete: collection.complete,
      done: collection.done,
      tasks: collection.tasks,
      files: collection.files,
      comparison: collection.comparison?.map((c) => ({
        loss: c.loss,
        seeds: c.seeds,
        rows: c.rows,
        pooled: { meanDice: c.summary.meanDice, classes: c.summary.classes },
      })),
    };
  }
}
