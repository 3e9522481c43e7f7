/** Shared test set-up: the checked-in model repository and a server on a real loopback socket. */
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { createServer, type RwsegServer, type ServerOptions } from '../src/index.js';

export const MODELS = fileURLToPath(new URL('../../test/fixtures/models', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../../cli/bin/run.js', import.meta.url));

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
  const server = await createServer({ models: MODELS, port: 0, providers: ['cpu'], defaultMetrics: false, logStream, ...options });
  const url = await server.listen();
  return { server, url, logs };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** The reference: onnxruntime called directly on the same model file, no server in between. */
export async function runDirect(model: string, feeds: Record<string, { data: Float32Array; dims: number[] }>, version = '1'): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(`${MODELS}/${model}/${version}/model.onnx`, { executionProviders: ['cpu'] });
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
  return { body: Buffer.concat([json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]), headerLength: json.length };
}
