#!/usr/bin/env node
// The loopback floor for bench/server.mjs: a bare node:http server that answers every POST with the same
// session.run the server does (binary tensor extension in and out, the same session settings), and nothing else:
// no routing, auth, limits, metrics, logs, validation or JSON header parsing (the request's header length and the
// answer's JSON header are fixed at start). What it costs over the in-process anchor is what loopback HTTP and the
// benchmark's own client cost on this machine; what `rwseg serve` costs over it is the server's own work.
//   node bench/server-floor.mjs MODEL.onnx [--threads 0] [--spinning] [--with-core]   (prints "listening on URL")
// --with-core loads @rwseg/core first (as `rwseg serve` does, with TF.js), so the floor's heap is the server's size
// and its garbage collections cost what the server's do: the difference left is the server's request path.
import http from 'node:http';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '0' },
    spinning: { type: 'boolean', default: false },
    'with-core': { type: 'boolean', default: false },
  },
});
if (values['with-core']) await import('@rwseg/core');
const session = await ort.InferenceSession.create(positionals[0], {
  executionProviders: ['cpu'],
  ...(Number(values.threads) > 0 ? { intraOpNumThreads: Number(values.threads) } : {}),
  extra: { session: { intra_op: { allow_spinning: values.spinning ? '1' : '0' } } },
});
const [inputName] = session.inputNames;
const fetches = session.outputNames;
const dims = session.inputMetadata[0].shape.map((d) => (typeof d === 'number' && d > 0 ? d : 0));

let answerHeader;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const headerLength = Number(req.headers['inference-header-content-length']);
    const bytes = body.subarray(headerLength);
    // Buffer.concat's result is pooled and may sit at any offset: copy only when a view cannot be taken.
    const data =
      bytes.byteOffset % 4 === 0
        ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
        : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const side = Math.round(Math.sqrt(data.length));
    const shape = dims.map((d, i) => (d > 0 ? d : i === 0 ? 1 : side));
    const out = await session.run({ [inputName]: new ort.Tensor('float32', data, shape) }, fetches);
    const t = out[fetches[0]];
    const tensor = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    answerHeader ??= Buffer.from(
      JSON.stringify({
        model_name: 'floor',
        outputs: [
          { name: fetches[0], datatype: 'FP32', shape: t.dims, parameters: { binary_data_size: tensor.length } },
        ],
      }),
    );
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(answerHeader.length),
      'content-length': String(answerHeader.length + tensor.length),
    });
    res.cork();
    res.write(answerHeader);
    res.end(tensor);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.once('SIGTERM', () => server.close(() => session.release().then(() => process.exit(0))));
