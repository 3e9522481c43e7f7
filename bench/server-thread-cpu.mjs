#!/usr/bin/env node
// CPU per inference request by thread, and the garbage collections in the same window: `rwseg serve` against the
// loopback floor (bench/server-floor.mjs), each in its own process on core 1 with this client on core 0 (taskset).
//   node bench/server-thread-cpu.mjs [--warmup 8000] [--requests 3000] [--rounds 2] [--threads 0] [--size 64]
//     [--node-flags "FLAGS"]   (node/V8 flags for both served processes)
// After `--warmup` sequential requests (one keep-alive connection, the 64x64 U-Net of bench/server.mjs, binary
// tensor extension) it reads every thread's user and system time from /proc/<pid>/task/<tid>/stat, sends
// `--requests` more, reads them again, and counts the scavenges and mark-compacts that node's --trace-gc printed
// in between. Rounds alternate floor and server. The main thread runs JavaScript, the HTTP parser and
// session.run's calling side; V8's worker threads do concurrent marking, sweeping and compilation; onnxruntime's
// intra-op pool has one thread per core but the caller. Linux only (/proc, taskset).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportBenchUnet, sequentialInfer, servedSides, waitForSide } from './server-model-repo.mjs';

const { values } = parseArgs({
  options: {
    warmup: { type: 'string', default: '8000' },
    requests: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '0' },
    size: { type: 'string', default: '64' },
    'node-flags': { type: 'string', default: '' },
  },
});
const [warmup, requests, size] = [Number(values.warmup), Number(values.requests), Number(values.size)];
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rwseg-bench-threads-'));
const repo = join(work, 'repo');
await exportBenchUnet(repo, size);
const sides = servedSides(root, repo, values.threads);

/** Seconds of user and system time of every thread of `pid`, by thread id. */
function threadTimes(pid) {
  const times = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      times.set(tid, { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

async function measure(side) {
  const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
  const child = spawn('taskset', ['-c', '1', process.execPath, '--trace-gc', ...nodeFlags, ...sides[side]], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const { url, inputName, printed } = await waitForSide(side, child);
  await sequentialInfer(url, inputName, size, warmup);
  const before = threadTimes(child.pid);
  const printedBefore = printed().length;
  const started = performance.now();
  await sequentialInfer(url, inputName, size, requests);
  const seconds = (performance.now() - started) / 1000;
  const after = threadTimes(child.pid);
  const gcLines = printed().slice(printedBefore).split('\n');
  child.kill('SIGTERM');
  await exited;
  const perRequest = (s) => (s * 1000) / requests;
  const threads = [...after].map(([tid, t]) => {
    const b = before.get(tid) ?? { user: 0, system: 0 };
    return { tid, main: tid === String(child.pid), ms: perRequest(t.user - b.user + t.system - b.system) };
  });
  const main = threads.find((t) => t.main)?.ms ?? 0;
  const others = threads.filter((t) => !t.main && t.ms > 0).sort((a, b) => b.ms - a.ms);
  return {
    side,
    rps: requests / seconds,
    main,
    others,
    total: main + others.reduce((n, t) => n + t.ms, 0),
    scavenges: gcLines.filter((l) => l.includes('Scavenge')).length,
    markCompacts: gcLines.filter((l) => l.includes('Mark-Compact')).length,
  };
}

try {
  const rows = [];
  for (let round = 0; round < Number(values.rounds); round++)
    for (const side of ['floor', 'server']) rows.push(await measure(side));
  console.log(
    `\nCPU ms per request by thread, ${requests} sequential requests after ${warmup}, ${size}x${size} U-Net, ` +
      `--threads ${values.threads}\n`,
  );
  console.log('| side | req/s | main thread | other threads (busiest first) | total | scavenges | mark-compacts |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.side} | ${r.rps.toFixed(0)} | ${r.main.toFixed(3)} | ` +
        `${r.others.map((t) => t.ms.toFixed(3)).join(' + ')} | ${r.total.toFixed(3)} | ${r.scavenges} | ` +
        `${r.markCompacts} |`,
    );
} finally {
  rmSync(work, { recursive: true, force: true });
}
