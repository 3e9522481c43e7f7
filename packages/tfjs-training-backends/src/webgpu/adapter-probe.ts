/**
 * Asks Dawn for a WebGPU adapter in a child process, so that `useBackend('auto')` can pass webgpu over without
 * the noise: Dawn and the Vulkan loader write their warnings ("maxDynamicUniformBuffersPerPipelineLayout
 * artificially reduced ...", "vkCreateInstance: Found no drivers!") straight to file descriptor 2 from native
 * code, where no JavaScript can hold them back. In the child that stderr is captured, and the caller logs it at
 * debug. The probe costs about 0.1 s; a machine with a real GPU then initializes Dawn in-process as usual.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ProbedAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface WebGpuAdapterProbe {
  /** The adapter Dawn offers for 'high-performance', or null when it offers none (or the probe failed). */
  adapter: ProbedAdapter | null;
  /** Why there is no adapter when the probe itself failed (no 'webgpu' package, a crash, a timeout). */
  failure?: string;
  /** What Dawn and the Vulkan loader wrote to stderr. */
  stderr: string;
}

const PROBE_TIMEOUT_MS = 20_000;

// Runs in the child: prints one JSON line with the adapter's info and exits at once (Dawn may hold the loop).
const CHILD_SCRIPT = `
const dawn = await import(process.argv[1]);
const gpu = dawn.create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const info = adapter ? (adapter.info ?? {}) : null;
process.stdout.write(JSON.stringify({ adapter: info && {
  vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '',
  description: info.description ?? '', isFallbackAdapter: Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter),
} }) + '\\n', () => process.exit(0));
`;

/** Probes for a WebGPU adapter in a child Node process; never throws. */
export async function probeWebGpuAdapterInChild(): Promise<WebGpuAdapterProbe> {
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return { adapter: null, failure: "the npm package 'webgpu' (Dawn) is not installed", stderr: '' };
  }
  const env = { ...process.env };
  // The same runtime folder the in-process backend would set (the Vulkan loader and Mesa want one).
  if (!env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = join(tmpdir(), `rwseg-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, entry], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ adapter: null, failure: `probe process failed: ${error.message}`, stderr }));
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as Pick<WebGpuAdapterProbe, 'adapter'>;
        resolve({ adapter: parsed.adapter, stderr });
      } catch {
        const how = signal ? `killed by ${signal}` : `exit status ${code}`;
        resolve({ adapter: null, failure: `probe process ended without an answer (${how})`, stderr });
      }
    });
  });
}
