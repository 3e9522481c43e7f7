/**
 * Model readiness from the artifact: a bad or incomplete model folder marks that model not ready with the reason,
 * and the repository keeps serving the others; spacing null and patchSize null models are served.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { decodePng, encodePng } from '@rwseg/core/io';
import { describeModels } from '../src/index.js';
import { getJson, MODELS, postJson, startTestServer } from './helpers.js';

/** A repository: seg2d as checked in, and copies of it with their rwseg.json altered by `edit`. */
function repository(copies: Record<string, (artifact: any, dir: string) => void>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rwseg-ready-'));
  cpSync(path.join(MODELS, 'seg2d'), path.join(root, 'seg2d'), { recursive: true });
  for (const [name, edit] of Object.entries(copies)) {
    const dir = path.join(root, name);
    cpSync(path.join(MODELS, 'seg2d'), dir, { recursive: true });
    const artifact = JSON.parse(readFileSync(path.join(dir, 'rwseg.json'), 'utf8'));
    edit(artifact, dir);
    writeFileSync(path.join(dir, 'rwseg.json'), JSON.stringify(artifact));
  }
  return root;
}

const grayPng = (width: number, height: number) =>
  encodePng(
    {
      data: Uint8Array.from({ length: width * height }, (_, i) => (i * 37) % 256),
      shape: [height, width],
      spacing: [1, 1],
    },
    'in.png',
  );

test('bad and incomplete folders are not ready with the reason; the others serve and the server stays ready', async (t) => {
  const root = repository({
    edited: (a) => {
      a.normalization = { method: 'histogram' };
    },
    truncated: (_a, dir) => writeFileSync(path.join(dir, '1', 'model.onnx'), Buffer.alloc(0)),
    nulls: (a) => {
      a.spacing = null;
      a.patchSize = null;
    },
  });
  const { server, url } = await startTestServer({ models: root });
  try {
    const edited = await getJson(`${url}/v2/models/edited/ready`);
    t.is(edited.status, 400);
    t.false(edited.json.ready);
    t.regex(edited.json.reason, /edited\/rwseg\.json: field 'normalization\.method'/);
    const truncated = await getJson(`${url}/v2/models/truncated/ready`);
    t.is(truncated.status, 400);
    t.regex(
      truncated.json.reason,
      /1\/model\.onnx does not match the sha256 in rwseg\.json \(an export was interrupted\)/,
    );
    // Inference on a model that is not ready is a 503 naming the reason, not a crash.
    const refused = await postJson(`${url}/v2/models/edited/infer`, {
      inputs: [{ name: 'image', shape: [1, 1, 1, 1], datatype: 'FP32', data: [0] }],
    });
    t.is(refused.status, 503);
    t.regex(refused.json.error, /field 'normalization\.method'/);

    // The start-up report (rwseg serve) names the reason too.
    const report = describeModels(server.store);
    t.regex(report.find((m) => m.name === 'edited')!.reason!, /field 'normalization\.method'/);
    t.is(report.find((m) => m.name === 'seg2d')!.reason, undefined);
    for (const name of ['seg2d', 'nulls']) t.is((await getJson(`${url}/v2/models/${name}/ready`)).status, 200, name);
    t.is((await getJson(`${url}/v2/health/ready`)).status, 200);
    // spacing null, patchSize null: the segment route runs on the whole image and returns labels of its size.
    const res = await fetch(`${url}/v2/models/nulls/segment`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: grayPng(12, 10),
    });
    t.is(res.status, 200, await res.clone().text());
    const { volume } = decodePng(new Uint8Array(await res.arrayBuffer()), 'out.png');
    t.deepEqual(volume.shape, [10, 12]);
    const metadata = await getJson(`${url}/v2/models/nulls`);
    t.is(metadata.json.rwseg.spacing, undefined);
    t.deepEqual(metadata.json.rwseg.normalization, { method: 'zscore', scope: 'per-image-and-channel' });
  } finally {
    await server.close();
  }
});
