#!/usr/bin/env node
// Instructions per inference request, `rwseg serve` against the loopback floor (bench/server-floor.mjs), counted
// by valgrind's callgrind. Counts are repeatable whatever else the machine runs, where the CPU seconds of
// bench/server.mjs move with the load, so this is the measurement to compare request-path changes with.
//   node bench/server-instructions.mjs [--warmup 50] [--requests 100] [--threads 1] [--size 64]
// Each side runs under callgrind with instrumentation off; after `--warmup` requests (sequential, one keep-alive
// connection, binary tensor extension in and out, the 64x64 U-Net of bench/server.mjs) counting is switched on for
// `--requests` more, then dumped. Both sides run at once (counts do not depend on it). The table splits each
// request's instructions by where they ran: onnxruntime, node's runtime and builtins (the interpreter, inline
// caches, http parser, libuv), V8's garbage collector (marking, sweeping, scavenges; it comes in lumps, a full
// collection every few hundred requests, so its share moves with the window), JIT-compiled JavaScript, libc.
// Kernel time (the syscalls) is not counted. Needs Debian's valgrind. About 5-15 minutes.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportBenchUnet, sequentialInfer, servedSides, waitForSide } from './server-model-repo.mjs';

const { values } = parseArgs({
  options: {
    warmup: { type: 'string', default: '50' },
    requests: { type: 'string', default: '100' },
    threads: { type: 'string', default: '1' },
    size: { type: 'string', default: '64' },
  },
});
for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    console.error(`${tool} is not installed: apt-get install -y valgrind`);
    process.exit(2);
  }
}
const [warmup, requests, size] = [Number(values.warmup), Number(values.requests), Number(values.size)];
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rwseg-bench-instructions-'));
const repo = join(work, 'repo');
await exportBenchUnet(repo, size);

const sides = servedSides(root, repo, values.threads);

/** One side under callgrind: start, warm up, count `requests`, dump; the dump file. */
async function measure(side) {
  const out = join(work, `callgrind.${side}`);
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, ...sides[side]],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const { url, inputName } = await waitForSide(side, child);
  await sequentialInfer(url, inputName, size, warmup);
  const control = (...args) => execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  control('-z');
  control('-i', 'on');
  await sequentialInfer(url, inputName, size, requests);
  control('-d');
  control('-i', 'off');
  child.kill('SIGTERM');
  await exited;
  return `${out}.1`;
}

// callgrind_annotate's lines: "   49,562,692 ( 3.55%)  file:function [object]".
const GC =
  /v8::internal::(\w*Marking|Sweeper|Scaveng|MarkCompact|\w*Collector|Heap\w*::|MemoryChunk|Evacuat|Remembered|SlotSet|\w*Visitor|IncrementalMarking|ConcurrentMarking|BasicMemoryChunk)|heap::base::|__popcountdi2/;
function categories(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const sums = {
    onnxruntime: 0,
    'node runtime and builtins': 0,
    'garbage collector': 0,
    'JIT code': 0,
    libc: 0,
    other: 0,
  };
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$/.exec(line);
    if (!match) continue;
    const count = Number(match[1].replaceAll(',', ''));
    const rest = match[2];
    if (rest.includes('PROGRAM TOTALS')) {
      total = count;
      continue;
    }
    const object = /\[([^\]]*)\]\s*$/.exec(rest)?.[1] ?? '???';
    const key = GC.test(rest)
      ? 'garbage collector'
      : object.includes('libonnxruntime')
        ? 'onnxruntime'
        : object.endsWith('/node') || object === process.execPath
          ? 'node runtime and builtins'
          : object === '???'
            ? 'JIT code'
            : /libc\.so/.test(object)
              ? 'libc'
              : 'other';
    sums[key] += count;
  }
  return { sums, total };
}

try {
  const [floorFile, serverFile] = await Promise.all([measure('floor'), measure('server')]);
  const floor = categories(floorFile);
  const server = categories(serverFile);
  const perRequest = (n) => (n / requests / 1e6).toFixed(3);
  console.log(
    `\nInstructions per request (millions), ${requests} requests after ${warmup} warm-up, ` +
      `${size}x${size} U-Net, --threads ${values.threads}\n`,
  );
  console.log('| where | floor | server | server - floor |');
  console.log('|---|---|---|---|');
  for (const key of Object.keys(floor.sums))
    console.log(
      `| ${key} | ${perRequest(floor.sums[key])} | ${perRequest(server.sums[key])} | ` +
        `${perRequest(server.sums[key] - floor.sums[key])} |`,
    );
  console.log(
    `| **total** | ${perRequest(floor.total)} | ${perRequest(server.total)} | ${perRequest(server.total - floor.total)} |`,
  );
  const noGc = (s) => s.total - s.sums['garbage collector'];
  console.log(
    `\nserver / floor: ${(server.total / floor.total).toFixed(3)}x in all, ` +
      `${(noGc(server) / noGc(floor)).toFixed(3)}x without the garbage collector`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
