/**
 * `rwseg serve` on onnxruntime's WebGPU provider (Mesa lavapipe here: no GPU needed) answers like onnxruntime's
 * CPU provider called directly, and reports the provider; asking for cuda (absent here) falls back with the
 * reason logged, and --strict-provider makes it a start-up error. packages/server/test covers the cuda -> cpu
 * fallback in-process; these run the real binary with webgpu in the chain.
 */
import test from 'ava';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorText } from '@rwseg/test-helpers/cli';
import { LAVAPIPE_ONLY, lavapipeSerialTest } from '@rwseg/test-helpers/lavapipe';
import { SERVER_MODELS, spawnServe } from '@rwseg/test-helpers/serve';

const SHAPE = [1, 8, 8, 1];
const image = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * 2 + (i % 5) * 0.3);

async function cpuReference(): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path.join(SERVER_MODELS, 'seg2d/1/model.onnx'), {
    executionProviders: ['cpu'],
  });
  try {
    const out = await session.run({ image: new ort.Tensor('float32', image, SHAPE) });
    return out.probabilities!.data as Float32Array;
  } finally {
    await session.release();
  }
}

async function infer(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v2/models/seg2d/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'image', shape: SHAPE, datatype: 'FP32', data: Array.from(image) }] }),
  });
  return { status: res.status, json: await res.json() };
}

lavapipeSerialTest(
  'serve --provider webgpu --strict-provider answers like the CPU provider and reports webgpu',
  async (t) => {
    const serve = await spawnServe(['--provider', 'webgpu', '--strict-provider', '--eager'], LAVAPIPE_ONLY);
    try {
      t.regex(serve.stdout(), /seg2d\/1: ready on webgpu/);
      const meta = (await (await fetch(`${serve.url}/v2/models/seg2d`)).json()) as any;
      t.is(meta.rwseg.provider, 'webgpu');
      t.deepEqual(meta.rwseg.failedProviders ?? [], []);
      const res = await infer(serve.url);
      t.is(res.status, 200, JSON.stringify(res.json));
      const got = res.json.outputs.find((o: { name: string }) => o.name === 'probabilities');
      t.deepEqual(got.shape, [1, 8, 8, 3]);
      const want = await cpuReference();
      t.is(got.data.length, want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want[i]!));
      t.true(worst < 1e-5, `largest difference from onnxruntime CPU: ${worst}`);
      // Not a degenerate answer: probabilities vary across pixels.
      const tissue = want.filter((_, i) => i % 3 === 1);
      t.true(Math.max(...tissue) - Math.min(...tissue) > 1e-3);
    } finally {
      t.is(await serve.stop(), 0);
    }
  },
);

lavapipeSerialTest(
  'serve --provider cuda,webgpu falls back to webgpu with the reason logged and in the metadata',
  async (t) => {
    const serve = await spawnServe(['--provider', 'cuda,webgpu', '--eager'], LAVAPIPE_ONLY);
    try {
      const meta = (await (await fetch(`${serve.url}/v2/models/seg2d`)).json()) as any;
      t.is(meta.rwseg.provider, 'webgpu');
      t.is(meta.rwseg.failedProviders[0].provider, 'cuda');
      t.regex(meta.rwseg.failedProviders[0].error, /\S/);
      // stderr also carries onnxruntime's own (colored, non-JSON) warnings: keep pino's JSON lines.
      const warning = serve
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.provider === 'cuda' && l.model === 'seg2d/1');
      t.truthy(warning, serve.stderr());
      t.regex(warning.msg, /execution provider 'cuda' unavailable for seg2d\/1, trying the next one/);
      t.is((await infer(serve.url)).status, 200);
    } finally {
      await serve.stop();
    }
  },
);

test.serial(
  'serve --provider cuda --strict-provider --eager fails to start, exit 2, naming the provider and the switch',
  async (t) => {
    const error = (await t.throwsAsync(
      spawnServe(['--provider', 'cuda', '--strict-provider', '--eager'], LAVAPIPE_ONLY),
    )) as Error & { code: number; stderr: string };
    t.is(error.code, 2);
    t.regex(
      errorText({ code: error.code, stdout: '', stderr: error.stderr }),
      /execution provider 'cuda' failed and --strict-provider is set/,
    );
  },
);

lavapipeSerialTest(
  'by default, serve leaves webgpu out when its only adapter is a software rasteriser, and says why',
  async (t) => {
    // Lavapipe is the only Vulkan driver the loader sees: onnxruntime would otherwise pick it over the CPU provider.
    const serve = await spawnServe(['--eager'], LAVAPIPE_ONLY);
    try {
      const meta = (await (await fetch(`${serve.url}/v2/models/seg2d`)).json()) as any;
      t.is(meta.rwseg.provider, 'cpu');
      t.deepEqual(
        meta.rwseg.failedProviders.map((f: { provider: string }) => f.provider),
        ['cuda'],
      );
      const note = serve
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => /left out of the default order/.test(l.msg ?? ''));
      t.truthy(note, serve.stderr());
      t.regex(note.reason, /software rasteriser \(.*llvmpipe/);
      t.is((await infer(serve.url)).status, 200);
    } finally {
      t.is(await serve.stop(), 0);
    }
  },
);
