#!/usr/bin/env node
// Load test of `rwseg serve` on loopback with autocannon, against onnxruntime-node called in-process on the same
// model and input (the anchor), at concurrency 1, 8 and 64. Build first (`npx tsc -b`).
//   node bench/server.mjs [--duration 5] [--size 64] [--models seg2d,unet,unet-json] [--max-queue-delay-ms 0]
//     [--max-batch-size N (default: the server's)] [--threads 0] [--spinning] [--repeat 1] [--anchor-gap-ms 0]
//     [--log-level warn] [--cpu-prof DIR] [--no-floor] [--floor-with-core] [--pin] [--node-flags "FLAGS"]
// --threads sets onnxruntime's intra-op threads in the server and the anchor alike; --repeat runs each row that
// many times, anchor and server alternating, and reports medians; --cpu-prof writes the server's V8 profile.
// Models: affine, a tiny JSON request (4 floats: the HTTP path and codec alone); seg2d, the test fixture (a 1x1
// conv + softmax on one 64x64 image: 16 KB in, 48 KB out, almost no compute); unet, rwseg's U-Net shape (depth 2,
// base 8) exported by @rwseg/tfjs-to-onnx, on the same image. Image requests use the binary tensor extension for
// input and output, as a production client would; a `-json` suffix (unet-json) sends the same model and image
// as JSON in and out instead, the protocol's plain form. The server runs in its own process
// (`rwseg serve --provider cpu`, the given max batch size and queue delay); the anchor runs `c`
// concurrent session.run loops in this process. Overhead ratio = anchor throughput / server throughput.
// On a loaded machine throughput moves with the load, so each row also reports CPU time: the server process's
// CPU seconds per answered request (from /proc/<pid>/stat, every thread) against the anchor's CPU seconds per
// session.run (process.cpuUsage), the cost of serving that the load on other cores does not change much.
// For binary models each round also drives the loopback floor (bench/server-floor.mjs: a bare node:http server
// doing only the same session.run, in its own process, with the same client), so the figures separate what the
// server costs from what loopback HTTP and the client cost; --no-floor leaves it out, --floor-with-core loads
// @rwseg/core into the floor's process (the server's heap size, so its garbage collection costs the same).
// --pin (Linux, 2+ cores, taskset): this process (the client, and the anchor between server rounds) on core 0, the
// server and the floor on core 1, so the client does not take the served process's core: each side of the ratio
// then has one core to itself, as with a client on another machine. --node-flags passes node/V8 flags (space
// separated) to the server and the floor, e.g. --node-flags=--no-allocation-site-pretenuring.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import ort from 'onnxruntime-node';
import { exportBenchUnet } from './server-model-repo.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    size: { type: 'string', default: '64' },
    models: { type: 'string', default: 'affine,seg2d,unet,unet-json' },
    'max-queue-delay-ms': { type: 'string', default: '0' },
    'max-batch-size': { type: 'string' },
    spinning: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    threads: { type: 'string', default: '0' },
    repeat: { type: 'string', default: '1' },
    'anchor-gap-ms': { type: 'string', default: '0' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'string' },
    'no-floor': { type: 'boolean', default: false },
    'floor-with-core': { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
// --anchor-gap-ms G: each anchor loop idles G ms between its runs, as a server idles a round trip between one
// client's requests. A run after an idle gap costs more CPU than back to back (caches and the thread pool go
// cold: on the loaded 2-core machine, 1.25 ms back to back against 1.66 ms after a 1 ms gap for the 64x64 U-Net),
// and the server at one connection always pays that.
const anchorGapMs = Number(values['anchor-gap-ms']);
// --repeat N: N alternating rounds of anchor and server per row; each column is the median of its rounds.
const repeat = Math.max(1, Number(values.repeat));
const size = Number(values.size);
if (values.pin) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
/** The command that starts a served process: on core 1 under --pin. */
function served(args) {
  const node = [...values['node-flags'].split(' ').filter(Boolean), ...args];
  return values.pin ? ['taskset', ['-c', '1', process.execPath, ...node]] : [process.execPath, node];
}
const root = fileURLToPath(new URL('..', import.meta.url));
const repo = mkdtempSync(join(tmpdir(), 'rwseg-bench-repo-'));

const models = values.models.split(',');
const repoModels = [...new Set(models.map((m) => m.replace(/-json$/, '')))];
for (const fixture of ['affine', 'seg2d']) {
  if (repoModels.includes(fixture))
    cpSync(join(root, `packages/server/test/fixtures/models/${fixture}`), join(repo, fixture), { recursive: true });
}
if (repoModels.includes('unet')) await exportBenchUnet(repo, size);

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) a process has used, or undefined off Linux. */
function processCpuSeconds(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `concurrency` loops of session.run for `duration` seconds; throughput and latency percentiles. */
async function inProcess(session, feeds, concurrency) {
  // The same fetch as the server's request (every output, named), as the server passes it to session.run.
  const fetches = session.outputNames;
  for (let i = 0; i < 3; i++) await session.run(feeds, fetches);
  const latencies = [];
  const end = performance.now() + duration * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await session.run(feeds, fetches);
      latencies.push(performance.now() - t0);
      if (anchorGapMs > 0) await new Promise((resolve) => setTimeout(resolve, anchorGapMs));
    }
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const cpuMs = (used.user + used.system) / 1000 / latencies.length;
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs };
}

const quietLogs = ['warn', 'error', 'fatal', 'silent'].includes(values['log-level']);

// --cpu-prof DIR: V8 CPU profiles of the server and floor processes, written there when each exits (open in Chrome
// DevTools); the floor's file names start with CPU.floor.
function profileArgs(prefix) {
  return values['cpu-prof']
    ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof'], '--cpu-prof-name', `CPU.${prefix}.${Date.now()}.cpuprofile`]
    : [];
}

function startServer() {
  const nodeArgs = profileArgs('server');
  const child = spawn(
    ...served([
      ...nodeArgs,
      join(root, 'packages/cli/bin/run.js'),
      'serve',
      '--models',
      repo,
      '--port',
      '0',
      '--provider',
      'cpu',
      '--eager',
      '--log-level',
      values['log-level'],
      '--drain-ms',
      '0',
      ...(values['max-batch-size'] ? ['--max-batch-size', values['max-batch-size']] : []),
      '--max-queue-delay-ms',
      values['max-queue-delay-ms'],
      '--threads',
      values.threads,
      ...(values.spinning ? ['--spinning'] : []),
    ]),
    { stdio: ['ignore', 'pipe', quietLogs ? 'inherit' : 'pipe'] },
  );
  // Below warn, the request logs go to a pipe that is read and dropped, as a log collector would read them.
  if (!quietLogs) child.stderr.resume();
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m && out.split('\n').length > repoModels.length + 1) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`rwseg serve exited ${code}: ${out}`)));
  });
}

/** The loopback floor (bench/server-floor.mjs) on one model, with the server's session settings. */
function startFloor(model) {
  const child = spawn(
    ...served([
      ...profileArgs('floor'),
      join(root, 'bench/server-floor.mjs'),
      join(repo, model, '1', 'model.onnx'),
      '--threads',
      values.threads,
      ...(values.spinning ? ['--spinning'] : []),
      ...(values['floor-with-core'] ? ['--with-core'] : []),
    ]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`the floor server exited ${code}: ${out}`)));
  });
}

/** autocannon against one URL; throughput, latency and the serving process's CPU per answered request. */
async function drive(pid, url, request, concurrency) {
  const cpuBefore = processCpuSeconds(pid);
  const result = await autocannon({ url, method: 'POST', ...request, connections: concurrency, duration });
  const cpuAfter = processCpuSeconds(pid);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMs: cpuBefore === undefined ? NaN : ((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests.total),
  };
}

const input = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i * 0.01) * 2);
const server = await startServer();
const rows = [];
const fixed = (v, digits, unit = '') => (Number.isNaN(v) ? '-' : `${v.toFixed(digits)}${unit}`);
try {
  // The floor: the cheapest route, no body, no model, at each concurrency (what HTTP on this machine costs).
  for (const concurrency of [1, 8, 64]) {
    const cpuBefore = processCpuSeconds(server.child.pid);
    const live = await autocannon({
      url: `${server.url}/v2/health/live`,
      connections: concurrency,
      duration: Math.min(duration, 3),
    });
    const cpuMs = ((processCpuSeconds(server.child.pid) - cpuBefore) * 1000) / Math.max(1, live.requests.total);
    console.log(
      `GET /v2/health/live c=${concurrency}: ${live.requests.average.toFixed(0)} req/s p50 ${live.latency.p50} ms ` +
        `p99 ${live.latency.p99} ms errors ${live.errors + live.non2xx} cpu ${cpuMs.toFixed(3)} ms/req`,
    );
  }
  for (const variant of models) {
    const model = variant.replace(/-json$/, '');
    const asJson = variant !== model;
    // The anchor gets the server's session settings (CPU, no spin-waiting threads) so the ratio is the server's cost.
    const session = await ort.InferenceSession.create(join(repo, model, '1', 'model.onnx'), {
      executionProviders: ['cpu'],
      ...(Number(values.threads) > 0 ? { intraOpNumThreads: Number(values.threads) } : {}),
      extra: { session: { intra_op: { allow_spinning: values.spinning ? '1' : '0' } } },
    });
    let feeds;
    let header;
    let body;
    if (model === 'affine') {
      // A tiny JSON request (4 floats in, 8 out): what the HTTP path and the codec cost on their own.
      feeds = { x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) };
      body = Buffer.from(
        JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
      );
    } else if (asJson) {
      feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, size, size, 1]) };
      body = Buffer.from(
        JSON.stringify({
          inputs: [
            { name: session.inputNames[0], shape: [1, size, size, 1], datatype: 'FP32', data: Array.from(input) },
          ],
        }),
      );
    } else {
      feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, size, size, 1]) };
      header = Buffer.from(
        JSON.stringify({
          inputs: [
            {
              name: session.inputNames[0],
              shape: [1, size, size, 1],
              datatype: 'FP32',
              parameters: { binary_data_size: input.byteLength },
            },
          ],
          parameters: { binary_data_output: true },
        }),
      );
      body = Buffer.concat([header, Buffer.from(input.buffer)]);
    }
    // The floor takes the binary extension only (what it answers is fixed); JSON and affine rows have none.
    const floor = header && !values['no-floor'] ? await startFloor(model) : undefined;
    for (const concurrency of [1, 8, 64]) {
      const rounds = [];
      for (let round = 0; round < repeat; round++) {
        const anchor = await inProcess(session, feeds, concurrency);
        const request = {
          headers: header
            ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }
            : { 'content-type': 'application/json' },
          body,
        };
        const served = await drive(server.child.pid, `${server.url}/v2/models/${model}/infer`, request, concurrency);
        const bare = floor ? await drive(floor.child.pid, floor.url, request, concurrency) : undefined;
        rounds.push({
          serverRps: served.rps,
          p50: served.p50,
          p99: served.p99,
          errors: served.errors + (bare?.errors ?? 0),
          anchorRps: anchor.rps,
          anchorP50: anchor.p50,
          anchorP99: anchor.p99,
          serverCpuMs: served.cpuMs,
          anchorCpuMs: anchor.cpuMs,
          floorRps: bare?.rps ?? NaN,
          floorP50: bare?.p50 ?? NaN,
          floorCpuMs: bare?.cpuMs ?? NaN,
        });
      }
      const median = (key) => rounds.map((r) => r[key]).sort((x, y) => x - y)[Math.floor((rounds.length - 1) / 2)];
      const r = { model: variant, concurrency, errors: rounds.reduce((n, x) => n + x.errors, 0) };
      for (const key of [
        'serverRps',
        'p50',
        'p99',
        'anchorRps',
        'anchorP50',
        'anchorP99',
        'serverCpuMs',
        'anchorCpuMs',
        'floorRps',
        'floorP50',
        'floorCpuMs',
      ])
        r[key] = median(key);
      rows.push(r);
      console.log(
        `${variant} c=${concurrency}: server ${r.serverRps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors} cpu ${r.serverCpuMs.toFixed(3)} ms/req | in-process ${r.anchorRps.toFixed(0)} runs/s p50 ${r.anchorP50.toFixed(2)} ms p99 ${r.anchorP99.toFixed(2)} ms cpu ${r.anchorCpuMs.toFixed(3)} ms/run | overhead ${(r.anchorRps / r.serverRps).toFixed(2)}x, cpu ${(r.serverCpuMs / r.anchorCpuMs).toFixed(2)}x` +
          (floor
            ? ` | floor ${r.floorRps.toFixed(0)} req/s p50 ${r.floorP50} ms cpu ${r.floorCpuMs.toFixed(3)} ms/req | ` +
              `floor/server ${(r.floorRps / r.serverRps).toFixed(2)}x, cpu ${(r.serverCpuMs / r.floorCpuMs).toFixed(2)}x`
            : ''),
      );
    }
    await session.release();
    if (floor) {
      floor.child.removeAllListeners('exit');
      floor.child.kill('SIGTERM');
    }
  }
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const batches = [...metrics.matchAll(/rwseg_inference_batch_requests_(sum|count)\{model="(\w+)"\} (\d+)/g)];
  for (const model of repoModels) {
    const sum = Number(batches.find((b) => b[1] === 'sum' && b[2] === model)?.[3] ?? 0);
    const count = Number(batches.find((b) => b[1] === 'count' && b[2] === model)?.[3] ?? 1);
    console.log(`${model}: mean requests per session.run in the server ${(sum / count).toFixed(2)}`);
  }
} finally {
  server.child.kill('SIGTERM');
  // The profile is written as the server exits.
  if (values['cpu-prof']) await new Promise((resolve) => server.child.once('exit', resolve));
  rmSync(repo, { recursive: true, force: true });
}
console.log(
  `\nload average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${(await import('node:os')).cpus().length} cores` +
    (values.pin ? '; pinned: client and anchor on core 0, server and floor on core 1' : ''),
);
console.log(
  '\n| model | concurrency | server req/s | p50 ms | p99 ms | errors | in-process runs/s | p50 ms | p99 ms | overhead | server CPU ms/req | in-process CPU ms/run | CPU overhead | floor req/s | floor p50 ms | floor CPU ms/req | floor/server | CPU server/floor |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.model} | ${r.concurrency} | ${r.serverRps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.anchorRps.toFixed(0)} | ${r.anchorP50.toFixed(2)} | ${r.anchorP99.toFixed(2)} | ${(r.anchorRps / r.serverRps).toFixed(2)}x | ${r.serverCpuMs.toFixed(3)} | ${r.anchorCpuMs.toFixed(3)} | ${(r.serverCpuMs / r.anchorCpuMs).toFixed(2)}x | ${fixed(r.floorRps, 0)} | ${fixed(r.floorP50, 0)} | ${fixed(r.floorCpuMs, 3)} | ${fixed(r.floorRps / r.serverRps, 2, 'x')} | ${fixed(r.serverCpuMs / r.floorCpuMs, 2, 'x')} |`,
  );
}
if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
