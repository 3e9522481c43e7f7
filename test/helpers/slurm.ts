/**
 * A real Slurm on localhost for the sweep tests: Debian's slurm-wlm and munge (installed by .ci/run), one node,
 * every file (config, state, spool, logs, munge key and socket) in a temporary folder, daemons run as root.
 * proctrack/linuxproc and task/none keep it free of cgroups, so it runs in a container.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { isCi } from '@rwseg/core/testing';

export const SLURM_INSTALL_HINT =
  'install Slurm and munge: apt-get install -y slurm-wlm munge (as root; .ci/run does it)';

/** Why the Slurm tests cannot run here, or undefined when they can (or, under CI, must). */
export function slurmSkipReason(): string | undefined {
  if (isCi()) return undefined;
  if (process.getuid?.() !== 0)
    return `the test starts slurmctld, slurmd and munged as root, and this is uid ${process.getuid?.()}`;
  const missing = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch'].filter(
    (f) => !existsSync(f),
  );
  return missing.length > 0 ? `${missing.join(', ')} missing: ${SLURM_INSTALL_HINT}` : undefined;
}

export interface LocalSlurm {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command (sbatch, squeue, scontrol, scancel) against this cluster. */
  run(
    command: string,
    args: readonly string[],
    options?: { cwd?: string; timeoutMs?: number },
  ): { status: number; stdout: string; stderr: string };
  /** The daemons' logs, for failure messages. */
  logs(): string;
  stop(): void;
}

export function startLocalSlurm(options: { cpus?: number; memoryMiB?: number } = {}): LocalSlurm {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-slurm-'));
  chmodSync(dir, 0o755);
  const munge = path.join(dir, 'munge');
  mkdirSync(munge, { mode: 0o700 });
  mkdirSync(path.join(dir, 'state'));
  mkdirSync(path.join(dir, 'spool'));
  writeFileSync(path.join(munge, 'munge.key'), randomBytes(1024), { mode: 0o600 });
  const node = hostname().split('.')[0]!;
  // Ports of its own, so it cannot meet another Slurm on the machine.
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=rwsegtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${munge}/munge.socket`,
      'CredType=cred/munge',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'ReturnToService=2',
      // The node's real size may differ from what it declares (a CI runner): do not drain it for that.
      'SlurmdParameters=config_overrides',
      // Finished jobs stay visible to squeue / scontrol show job for 10 minutes (no accounting database here).
      'MinJobAge=600',
      'KillWait=10',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${options.cpus ?? 2} RealMemory=${options.memoryMiB ?? 2000} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const sh = (command: string, args: readonly string[], cwd?: string, timeout = 60_000) => {
    const r = spawnSync(command, args, { env, cwd, encoding: 'utf8', timeout });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const pidFiles = [path.join(dir, 'slurmd.pid'), path.join(dir, 'slurmctld.pid'), path.join(munge, 'munged.pid')];
  const started: string[] = [];
  const slurm: LocalSlurm = {
    dir,
    env,
    run: (command, args, o = {}) => sh(command, args, o.cwd, o.timeoutMs),
    logs: () =>
      ['slurmctld.log', 'slurmd.log', 'munge/munged.log']
        .map((f) => path.join(dir, f))
        .filter(existsSync)
        .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`)
        .join('\n'),
    stop: () => {
      // Only the daemons this helper started, by the pids they wrote.
      for (const file of pidFiles.filter((f) => started.includes(f) && existsSync(f))) {
        const pid = Number(readFileSync(file, 'utf8').trim());
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      }
    },
  };
  const daemon = (command: string, args: readonly string[], pidFile: string) => {
    const r = sh(command, args);
    if (r.status !== 0) {
      slurm.stop();
      throw new Error(`${command} did not start (exit ${r.status}): ${r.stderr}\n${slurm.logs()}`);
    }
    started.push(pidFile);
  };
  daemon(
    '/usr/sbin/munged',
    [
      '--force',
      `--key-file=${munge}/munge.key`,
      `--socket=${munge}/munge.socket`,
      `--pid-file=${munge}/munged.pid`,
      `--log-file=${munge}/munged.log`,
      `--seed-file=${munge}/munged.seed`,
    ],
    pidFiles[2]!,
  );
  daemon('/usr/sbin/slurmctld', ['-f', conf, '-i'], pidFiles[1]!);
  daemon('/usr/sbin/slurmd', ['-f', conf], pidFiles[0]!);
  return slurm;
}

/** Polls `check` every `everyMs` until it returns a value, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
