/**
 * The server's fast paths (issue 16, item 6): FP32 JSON text is the shortest float32 decimal (against numpy's
 * Dragon4, a checked-in fixture) and reads back exactly; a binary body is read once into a Buffer whose tensors
 * onnxruntime gets as views, whatever the JSON header's length; answers made of the JSON text and the tensors'
 * own buffers arrive whole on a real socket, small and huge, binary and JSON.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { readBody } from '../src/body-reader.js';
import { float32ListBytes } from '../src/float32-text.js';
import { decodeRequest, splitBody } from '../src/inference-codec.js';
import { binaryBody, getJson, rawRequest, runDirect, seededFloats, startTestServer } from './helpers.js';

const FIXTURE = new URL('../../test/fixtures/float32-text.json', import.meta.url);

/** Significant digits of a decimal in any notation ('1.25e-3', '0.00125', '1250' all have 3). */
function significantDigits(text: string): number {
  const mantissa = text.replace(/^-/, '').split(/e/i)[0].replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length || 1;
}

test("FP32 JSON text reads back as the same float32 and is as short as numpy's shortest repr", (t) => {
  const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { bits: number[]; numpy: string[] };
  const values = new Float32Array(new Uint32Array(fixture.bits).buffer);
  const text = float32ListBytes(values).toString('latin1');
  const back = JSON.parse(text) as number[];
  const words = text.slice(1, -1).split(',');
  t.is(back.length, values.length);
  let longer = 0;
  for (let i = 0; i < values.length; i++) {
    if (Math.fround(back[i]) !== values[i]) t.fail(`${values[i]} came back as ${back[i]} from '${words[i]}'`);
    // Below 1e7 the writer finds the shortest digits; above, it keeps plain integer digits (still exact).
    const mine = significantDigits(words[i]);
    const numpy = significantDigits(fixture.numpy[i]);
    if (Math.abs(values[i]) < 1e7 ? mine !== numpy : mine < numpy) longer++;
  }
  t.is(longer, 0);
  t.is(
    float32ListBytes(Float32Array.from([0.1, -0, 0.5, 1e-45, 3.4028235e38, NaN, -Infinity, 1e-7, 250])).toString(),
    '[0.1,0,0.5,1e-45,3.4028235e+38,null,null,0.0000001,250]',
  );
  t.is(float32ListBytes(new Float32Array(0)).toString(), '[]');
  // Chunks of one list: the inner parts, spliced with commas, are the whole list.
  const part = Float32Array.from([1.5, -2.25, 3]);
  t.is(`${float32ListBytes(part, true, false)},${float32ListBytes(part, false, true)}`, '[1.5,-2.25,3,1.5,-2.25,3]');
});

test('a binary body is read into one Buffer with its tensor 8-byte aligned, and decoded as a view on it', async (t) => {
  await alignedViews(t, 8);
  // Past the 1 MiB reserved up front: the buffer grows as the bytes arrive, and the result is the same.
  await alignedViews(t, 640);
});

async function alignedViews(t: ExecutionContext, side: number): Promise<void> {
  const image = seededFloats(side * side, 3);
  const inputs = [{ name: 'image', datatype: 'FP32', shape: [1, side, side, 1] }];
  const server = http.createServer((req, res) => {
    readBody(req, req, 1 << 24, (error, body) => {
      if (error || !body) return res.writeHead(500).end(String(error));
      try {
        const headerLength = req.headers['inference-header-content-length'] as string;
        const { json, binary } = splitBody(body, headerLength);
        const decoded = decodeRequest(json, binary, inputs, [], { maxElements: 1e6 });
        const data = decoded.feeds.image.data as Float32Array;
        res.end(
          JSON.stringify({
            aligned: (body.byteOffset + Number(headerLength)) % 8 === 0,
            view: data.buffer === body.buffer,
            equal: data.every((v, i) => v === image[i]),
          }),
        );
      } catch (e) {
        res.writeHead(500).end(String((e as Error).stack));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    // JSON headers of every length modulo 8 (padded with spaces), sent whole and trickled in small chunks.
    for (let pad = 0; pad < 8; pad++) {
      const input = { ...inputs[0], parameters: { binary_data_size: image.byteLength } };
      const header = { inputs: [input], pad: ' '.repeat(pad) };
      const { body, headerLength } = binaryBody(header, [image]);
      const headers = { 'inference-header-content-length': String(headerLength) };
      // A fresh connection each time (agent: false): no keep-alive race with the server's idle timeout.
      const whole = await rawRequest(url, { method: 'POST', headers, body, agent: false });
      t.deepEqual(JSON.parse(whole.body.toString()), { aligned: true, view: true, equal: true }, `pad ${pad}`);
      const trickled = await new Promise<string>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        // No Content-Length: chunked transfer, so the reader grows its buffer as the chunks come.
        const step = side > 8 ? 65_537 : 37;
        for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
        req.end();
      });
      t.deepEqual(JSON.parse(trickled), { aligned: true, view: true, equal: true }, `pad ${pad}, chunked`);
    }
  } finally {
    server.close();
  }
}

test('binary answers of any header length, one of 12 MB, and JSON answers arrive whole on the socket', async (t) => {
  const { server, url } = await startTestServer({ maxVoxels: 1 << 24 });
  try {
    for (const [h, w, pad] of [
      [3, 5, 0],
      [4, 4, 1],
      [7, 3, 2],
      [1024, 1024, 3],
    ]) {
      const image = seededFloats(h * w, h + w);
      const header = {
        id: 'x'.repeat(pad),
        inputs: [
          { name: 'image', shape: [1, h, w, 1], datatype: 'FP32', parameters: { binary_data_size: image.byteLength } },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      };
      const { body, headerLength } = binaryBody(header, [image]);
      const res = await rawRequest(`${url}/v2/models/seg2d/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(headerLength),
        },
        body,
      });
      t.is(res.status, 200);
      t.is(Number(res.headers['content-length']), res.body.length);
      const jsonLength = Number(res.headers['inference-header-content-length']);
      const head = JSON.parse(res.body.subarray(0, jsonLength).toString());
      t.is(head.outputs[0].parameters.binary_data_size, h * w * 3 * 4);
      const tail = res.body.subarray(jsonLength);
      t.is(tail.length, h * w * 3 * 4);
      const got = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
      const direct = await runDirect('seg2d', { image: { data: image, dims: [1, h, w, 1] } });
      t.deepEqual(got, direct.probabilities.data as Float32Array, `${h}x${w}`);
    }
    // A JSON answer below the streaming size: one body with Content-Length, the same float32 values.
    const image = seededFloats(32 * 32, 7);
    const res = await rawRequest(`${url}/v2/models/seg2d/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'image', shape: [1, 32, 32, 1], datatype: 'FP32', data: Array.from(image) }],
      }),
    });
    t.is(res.status, 200);
    t.is(Number(res.headers['content-length']), res.body.length);
    const data = JSON.parse(res.body.toString()).outputs[0].data as number[];
    const direct = await runDirect('seg2d', { image: { data: image, dims: [1, 32, 32, 1] } });
    t.deepEqual(Float32Array.from(data), direct.probabilities.data as Float32Array);
    // Shortest float32 text: shorter than the 17-digit doubles JSON.stringify writes for the same values.
    t.true(res.body.length < JSON.stringify(Array.from(direct.probabilities.data as Float32Array)).length);
  } finally {
    await server.close({ drainMs: 0 });
  }
});

test('on the CPU provider nothing is merged unless a batch size is given; a given one is kept', async (t) => {
  const plain = await startTestServer();
  const given = await startTestServer({ maxBatchSize: 4 });
  try {
    t.is((await getJson(`${plain.url}/v2/models/seg2d`)).json.rwseg.maxBatchSize, 1);
    t.is((await getJson(`${given.url}/v2/models/seg2d`)).json.rwseg.maxBatchSize, 4);
  } finally {
    await plain.server.close({ drainMs: 0 });
    await given.server.close({ drainMs: 0 });
  }
});
