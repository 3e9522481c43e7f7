/**
 * A throwaway user project outside the repository, with @rwseg/core "installed" (linked) the way npm would,
 * so third-party plugins are written and loaded exactly as a plugin author's would be.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

export function makeUserProject(packageJson: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-user-'));
  mkdirSync(path.join(dir, 'node_modules', '@rwseg'), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'packages', 'core'), path.join(dir, 'node_modules', '@rwseg', 'core'), 'dir');
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true, type: 'module', ...packageJson }, null, 2),
  );
  return dir;
}

/** Writes an ES-module plugin package at `dir` whose main.js is `source`. */
export function writePluginPackage(dir: string, name: string, source: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      { name, version: '1.0.0', type: 'module', main: 'main.js', peerDependencies: { '@rwseg/core': '*' } },
      null,
      2,
    ),
  );
  writeFileSync(path.join(dir, 'main.js'), source);
}

/** The minimal loss plugin from docs/plugins.md: a mean-squared-error loss with one option. */
export const MSE_PLUGIN_SOURCE = `
import { definePlugin, defineLoss, PLUGIN_API_VERSION, tf, z } from '@rwseg/core/plugin';

const squaredError = defineLoss({
  name: 'squared-error',
  description: 'Mean squared error between softmax probabilities and the one-hot target',
  options: z.object({ scale: z.number().positive().default(1) }),
  create: ({ scale }) => ({
    name: 'squared-error',
    requiredMaps: [],
    compute: ({ probs, target }) => tf.mul(scale, tf.mean(tf.squaredDifference(probs, target))),
  }),
});

export default definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'rwseg-plugin-mse', losses: [squaredError] });
`;
