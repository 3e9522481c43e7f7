/** The real `rwseg serve` process on port 0 with the server package's fixture models (test/serve-process.test.ts). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { CLI_BIN, REPO_ROOT } from './cli.js';

export const SERVER_MODELS = path.join(REPO_ROOT, 'packages/server/test/fixtures/models');

export interface RunningServe {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  stop: () => Promise<number | null>;
}

/**
 * Starts `rwseg serve` and resolves once it listens and (with --eager) has reported its last model; rejects
 * with the exit code and output when the process exits first.
 */
export function spawnServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  ready = /listening on (http:\/\/\S+)[^]*seg2d\/1: .*\n/,
): Promise<RunningServe> {
  // No drain period unless the caller sets one: stopping is then immediate.
  const drain = args.includes('--drain-ms') ? [] : ['--drain-ms', '0'];
  const child = spawn(
    process.execPath,
    [CLI_BIN, 'serve', '--models', SERVER_MODELS, '--port', '0', ...drain, ...args],
    { env: { ...process.env, ...env }, stdio: 'pipe' },
  );
  let stdout = '';
  let stderr = '';
  // 'close', not 'exit': it fires once stdout and stderr are drained, so the last lines are always read.
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exit;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rwseg serve did not start:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = ready.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, stdout: () => stdout, stderr: () => stderr, exit, stop });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`rwseg serve exited ${code}:\n${stdout}\n${stderr}`), { code, stdout, stderr }));
    });
  });
}
