/** A plain export folder (model.onnx + rwseg.json, as a pipeline's default export leaves them) is served as one model. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { scanRepository } from '../src/index.js';
import { MODELS, postJson, runDirect, seededFloats, startTestServer } from './helpers.js';

function plainFolder(name: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rwseg-plain-')), name);
  mkdirSync(dir);
  copyFileSync(path.join(MODELS, 'seg2d', '1', 'model.onnx'), path.join(dir, 'model.onnx'));
  // The same artifact, its export.file now beside it (a plain export names model.onnx, not 1/model.onnx).
  const artifact = JSON.parse(readFileSync(path.join(MODELS, 'seg2d', 'rwseg.json'), 'utf8'));
  writeFileSync(
    path.join(dir, 'rwseg.json'),
    JSON.stringify({ ...artifact, export: { ...artifact.export, format: 'onnx', file: 'model.onnx' } }),
  );
  return dir;
}

test('a folder holding model.onnx is one model named after the folder, version 1', (t) => {
  const [model, ...rest] = scanRepository(plainFolder('quickstart'));
  t.is(rest.length, 0);
  t.is(model!.name, 'quickstart');
  t.deepEqual(model!.versions, ['1']);
  t.is(model!.metadata.classes.length, 3);
});

test('a plain export folder answers V2 inference like onnxruntime called directly', async (t) => {
  const { server, url } = await startTestServer({ models: plainFolder('run-7') });
  try {
    const data = seededFloats(2 * 5 * 1, 3);
    const res = await postJson(`${url}/v2/models/run-7/infer`, {
      inputs: [{ name: 'image', shape: [1, 2, 5, 1], datatype: 'FP32', data: Array.from(data) }],
    });
    t.is(res.status, 200, JSON.stringify(res.json));
    const direct = await runDirect('seg2d', { image: { data, dims: [1, 2, 5, 1] } });
    const expected = Array.from(direct.probabilities!.data as Float32Array);
    const got = res.json.outputs.find((o: { name: string }) => o.name === 'probabilities').data as number[];
    t.is(got.length, expected.length);
    got.forEach((v, i) => t.true(Math.abs(v - expected[i]!) < 1e-6, `element ${i}`));
  } finally {
    await server.close();
  }
});
