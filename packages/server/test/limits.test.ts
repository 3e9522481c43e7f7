/**
 * Bounded work and honest accounting (issue 16, parts 2 and 4) on a real socket: caps on decoded size (gzip
 * bombs included), one deadline per request, cancellation when the client goes away, slow clients, and metrics
 * and logs that count aborted requests. Every test is bounded in count and time and targets 127.0.0.1 only.
 */
import http from 'node:http';
import { createGzip, gzipSync } from 'node:zlib';
import test from 'ava';
import { encodeNifti, encodePng } from '@rwseg/core/io';
import { metricValue, postJson, startTestServer, type TestServer } from './helpers.js';

const json = { 'content-type': 'application/json' };
const affineBody = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });

async function inFlight(s: TestServer): Promise<number> {
  return (await s.server.metrics.inFlight.get()).values[0]?.value ?? 0;
}

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Gzips chunks one at a time, so building a bomb does not hold its inflated size in memory. */
function gzipStream(chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = createGzip({ level: 9 });
    const out: Buffer[] = [];
    gzip.on('data', (c: Buffer) => out.push(c));
    gzip.on('end', () => resolve(Buffer.concat(out)));
    gzip.on('error', reject);
    for (const c of chunks) gzip.write(c);
    gzip.end();
  });
}

/** Sends a request and destroys its socket once the server holds it; resolves when the socket is gone. */
async function abandon(
  s: TestServer,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
): Promise<void> {
  const before = await inFlight(s);
  const req = http.request(`${s.url}${path}`, { method: 'POST', headers });
  req.on('error', () => {});
  req.end(body);
  await until(async () => (await inFlight(s)) > before);
  req.destroy();
}

test.serial(
  'an aborted request is counted (499), logged, leaves in-flight at 0, and its queued inference never runs',
  async (t) => {
    const s = await startTestServer({ maxQueueDelayMs: 600, maxBatchSize: 64, eager: true });
    try {
      await abandon(s, '/v2/models/affine/infer', json, affineBody);
      await until(async () => (await inFlight(s)) === 0);
      await new Promise((r) => setTimeout(r, 800));
      t.is(s.server.store.get('affine').runs, 0, 'the withdrawn request never reached session.run');
      const text = await (await fetch(`${s.url}/metrics`)).text();
      t.is(
        metricValue(text, 'rwseg_http_requests_total{route="/v2/models/:name/infer",method="POST",status="499"}'),
        1,
      );
      t.is(
        metricValue(text, 'rwseg_http_request_duration_seconds_count{route="/v2/models/:name/infer",method="POST"}'),
        1,
      );
      t.is(metricValue(text, 'rwseg_inference_queue_depth{model="affine"}'), 0);
      // The scrape itself is in flight while it is answered.
      t.is(metricValue(text, 'rwseg_http_requests_in_flight'), 1);
      t.true(
        s.logs.some((l) => /request aborted: the client closed the connection/.test(l) && /affine\/infer/.test(l)),
      );
      t.is((await postJson(`${s.url}/v2/models/affine/infer`, JSON.parse(affineBody))).status, 200);
    } finally {
      await s.server.close({ drainMs: 0 });
    }
  },
);

/** A 400x400 PNG: seg2d's 8x8 windows at half overlap make 99 x 99 session.runs of one window each. */
const WINDOWS = 99 * 99;
const bigPng = () =>
  encodePng(
    { data: new Uint8Array(400 * 400).map((_, i) => (i * 37) % 251), shape: [400, 400], spacing: [1, 1] },
    'big.png',
  );

test.serial('/segment: the client going away stops the remaining window batches', async (t) => {
  const s = await startTestServer({ maxBatchSize: 1, eager: true });
  try {
    const mv = s.server.store.get('seg2d');
    await abandon(s, '/v2/models/seg2d/segment', { 'content-type': 'image/png' }, bigPng());
    await until(async () => (await inFlight(s)) === 0);
    await new Promise((r) => setTimeout(r, 50));
    const atAbort = mv.runs;
    await new Promise((r) => setTimeout(r, 500));
    t.true(mv.runs - atAbort <= 1, `runs went on after the abort: ${atAbort} -> ${mv.runs}`);
    t.true(mv.runs < WINDOWS, 'not every window ran');
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test.serial('/segment: one deadline for the whole request (504 + Retry-After), and no work after it', async (t) => {
  const s = await startTestServer({ maxBatchSize: 1, eager: true, requestTimeoutMs: 300 });
  try {
    const mv = s.server.store.get('seg2d');
    const runsBefore = mv.runs;
    const started = Date.now();
    const res = await fetch(`${s.url}/v2/models/seg2d/segment`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: bigPng(),
    });
    // The deadline passes while the windows run (504) unless a loaded machine delays the first window past it:
    // then no inference started, and the answer is the 503 a client may retry elsewhere. Both are this deadline.
    const error = ((await res.json()) as { error: string }).error;
    t.is(res.headers.get('retry-after'), '1');
    if (res.status === 503) {
      t.regex(error, /300 ms deadline \(--timeout-ms\) passed before its inference started/);
      t.is(mv.runs, runsBefore, 'a 503 means no window ran');
      t.log('the first window started after the deadline (loaded machine): 503');
    } else {
      t.is(res.status, 504);
      t.regex(error, /did not finish within its 300 ms deadline \(--timeout-ms\)/);
    }
    // Generous: it only tells an answer at the deadline from one after all the windows (the count below is the
    // real check); a loaded CI machine must not fail it.
    t.true(Date.now() - started < 15_000, `answered after ${Date.now() - started} ms`);
    const atDeadline = mv.runs;
    await new Promise((r) => setTimeout(r, 400));
    t.true(mv.runs - atDeadline <= 1, `runs went on after the deadline: ${atDeadline} -> ${mv.runs}`);
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test.serial(
  'a body trickled in slower than the deadline is answered 408 {"error"} at the deadline, then closed',
  async (t) => {
    const s = await startTestServer({ requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      const res = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
        const req = http.request(
          `${s.url}/v2/models/affine/infer`,
          { method: 'POST', headers: { ...json, 'content-length': '1000' } },
          (r) => {
            let text = '';
            r.on('data', (c) => (text += c));
            r.on('end', () => resolve({ status: r.statusCode!, body: text, connection: r.headers.connection }));
          },
        );
        req.on('error', reject);
        let sent = 0;
        // At most 20 ticks: bounded even if the server never answered.
        const timer = setInterval(() => {
          if (sent++ >= 20 || req.destroyed) return clearInterval(timer);
          req.write('          ');
        }, 100);
        req.on('close', () => clearInterval(timer));
      });
      t.is(res.status, 408);
      t.regex(JSON.parse(res.body).error, /body did not arrive within the 300 ms deadline/);
      t.is(res.connection, 'close');
      t.true(Date.now() - started < 3000);
      await until(async () => (await inFlight(s)) === 0);
      t.is((await postJson(`${s.url}/v2/models/affine/infer`, JSON.parse(affineBody))).status, 200);
    } finally {
      await s.server.close({ drainMs: 0 });
    }
  },
);

test.serial(
  'decoded size is capped: a 16 KB PNG of 4096x4096, a NIfTI header of 1000^3, gzip bombs: 413 naming the cap',
  async (t) => {
    const s = await startTestServer({ maxVoxels: 1_000_000 });
    try {
      const send = (body: Uint8Array, type: string) =>
        fetch(`${s.url}/v2/models/seg2d/segment`, { method: 'POST', headers: { 'content-type': type }, body });
      const png = encodePng({ data: new Uint8Array(4096 * 4096), shape: [4096, 4096], spacing: [1, 1] }, 'big.png');
      t.true(png.length < 100_000);
      const rssBefore = process.memoryUsage().rss;
      const pngRes = await send(png, 'image/png');
      t.is(pngRes.status, 413);
      t.regex(
        ((await pngRes.json()) as any).error,
        /4096x4096 = 16777216 voxels, more than the server's limit of 1000000 \(--max-voxels\)/,
      );

      // A header claiming 100^3 voxels, then nothing: refused from the header, before reading voxel data.
      const header = Buffer.from(
        encodeNifti({ data: new Uint8Array(8), shape: [2, 2, 2], spacing: [1, 1, 1] }, 'h.nii'),
      );
      header.writeInt16LE(100, 42);
      header.writeInt16LE(100, 44);
      header.writeInt16LE(100, 46);
      header.writeInt16LE(1000, 42);
      const nii = await send(header, 'application/octet-stream');
      t.is(nii.status, 413);
      t.regex(((await nii.json()) as any).error, /1000x100x100 = 10000000 voxels/);
      const bombByHeader = await send(gzipSync(Buffer.concat([header, Buffer.alloc(20_000_000)])), 'application/gzip');
      t.is(bombByHeader.status, 413);
      t.regex(((await bombByHeader.json()) as any).error, /1000x100x100 = 10000000 voxels/);

      // A small 8x8 image followed by 200 MB of zeros: about 200 KB compressed, refused while inflating.
      const small = Buffer.from(encodeNifti({ data: new Float32Array(64), shape: [8, 8], spacing: [1, 1] }, 's.nii'));
      const bomb = await gzipStream([small, ...Array(200).fill(Buffer.alloc(1024 * 1024))]);
      t.true(bomb.length < 400_000, `bomb is ${bomb.length} bytes`);
      const bombRes = await send(bomb, 'application/gzip');
      t.is(bombRes.status, 413);
      t.regex(((await bombRes.json()) as any).error, /inflates past the \d+ bytes its NIfTI header needs/);
      t.true(process.memoryUsage().rss - rssBefore < 150 * 1024 * 1024, 'the bomb was not inflated in full');

      const ok = await send(
        encodePng({ data: new Uint8Array(64).map((_, i) => i * 4), shape: [8, 8], spacing: [1, 1] }, 'ok.png'),
        'image/png',
      );
      t.is(ok.status, 200);
    } finally {
      await s.server.close({ drainMs: 0 });
    }
  },
);

test.serial(
  '64 concurrent clients for 2 s, good and bad requests mixed: no 5xx but deliberate 503s, RSS bounded',
  async (t) => {
    const s = await startTestServer({ maxQueue: 32, eager: true });
    try {
      const rssBefore = process.memoryUsage().rss;
      const bodies = [
        affineBody,
        '{"inputs": [',
        JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3] }] }),
        `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":${'['.repeat(3000)}${']'.repeat(3000)}}]}`,
        JSON.stringify({
          inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }],
          outputs: [{ name: 'y' }, { name: 'y' }],
        }),
      ];
      const statuses = new Map<number, number>();
      const end = Date.now() + 2000;
      await Promise.all(
        Array.from({ length: 64 }, async (_, c) => {
          // At most 40 requests per client: bounded even on a fast machine.
          for (let i = 0; i < 40 && Date.now() < end; i++) {
            const res = await fetch(`${s.url}/v2/models/affine/infer`, {
              method: 'POST',
              headers: json,
              body: bodies[(c + i) % bodies.length],
            });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
      const unexpected = [...statuses.keys()].filter((code) => code >= 500 && code !== 503);
      t.deepEqual(unexpected, [], JSON.stringify([...statuses]));
      t.true((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, JSON.stringify([...statuses]));
      t.true(process.memoryUsage().rss - rssBefore < 300 * 1024 * 1024);
      await until(async () => (await inFlight(s)) === 0);
      t.is((await fetch(`${s.url}/v2/health/live`)).status, 200);
    } finally {
      await s.server.close({ drainMs: 0 });
    }
  },
);
