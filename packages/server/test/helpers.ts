/** Shared test set-up: the checked-in model repository and a server on a real loopback socket. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { createServer, type RwsegServer, type ServerOptions } from '../src/index.js';

export const MODELS = fileURLToPath(new URL('../../test/fixtures/models', import.meta.url));

export interface TestServer {
  server: RwsegServer;
  url: string;
  logs: string[];
}

/** A server on 127.0.0.1, port 0, CPU provider unless told otherwise; its log lines are kept for assertions. */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  // No drain period unless a test asks for one: closing is then immediate, as a test wants.
  const server = await createServer({
    models: MODELS,
    port: 0,
    providers: ['cpu'],
    defaultMetrics: false,
    logStream,
    drainMs: 0,
    ...options,
  });
  const url = await server.listen();
  return { server, url, logs };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** The reference: onnxruntime called directly on the same model file, no server in between. */
export async function runDirect(
  model: string,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
  version = '1',
  repository = MODELS,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(`${repository}/${model}/${version}/model.onnx`, {
    executionProviders: ['cpu'],
  });
  const input: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor('float32', t.data, t.dims);
  const out = await session.run(input);
  await session.release();
  return out;
}

/** Deterministic pseudo-random floats in [-2, 2). */
export function seededFloats(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

/** Builds a binary-extension body: JSON header then raw tensors; returns it with the header length. */
export function binaryBody(header: unknown, tensors: ArrayBufferView[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]),
    headerLength: json.length,
  };
}

/** A second repository holding pool2d, a model with a U-Net's size grid (even sizes only). */
export const GRID_MODELS = fileURLToPath(new URL('../../test/fixtures/grid-models', import.meta.url));

/**
 * A temporary repository with copies of fixture models under new names, each with its rwseg.json patched
 * (for names and class lists the checked-in fixtures do not have). Removed by the returned function.
 */
export function tempRepository(
  models: { from: string; name: string; root?: string; metadata?: Record<string, unknown> }[],
): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rwseg-server-test-'));
  for (const m of models) {
    cpSync(join(m.root ?? MODELS, m.from), join(dir, m.name), { recursive: true });
    if (m.metadata) {
      const file = join(dir, m.name, 'rwseg.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...m.metadata }));
    }
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request through node:http (no fetch normalization: any method, any path bytes, an agent of our own). */
export function rawRequest(
  url: string,
  options: http.RequestOptions & { body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The value of one sample of a Prometheus text exposition (undefined when absent). */
export function metricValue(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}
