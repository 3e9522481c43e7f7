/**
 * Execution provider selection. onnxruntime does not fall back by itself when a provider in a list fails to
 * load (a missing CUDA library is an error, not a skip), so each provider is tried alone, in order.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { RwsegError } from '@rwseg/core';
import type { ServerLog } from './log.js';

export const DEFAULT_PROVIDERS: readonly string[] = ['cuda', 'webgpu', 'cpu'];

export interface DefaultProviders {
  providers: string[];
  /** Why webgpu was left out of the default order, when it was. */
  skippedWebGpu?: string;
}

/**
 * The default order, minus webgpu when the only WebGPU adapter is a CPU rasteriser (Mesa lavapipe,
 * SwiftShader): onnxruntime would pick it over the CPU provider and run many times slower. Asking for webgpu
 * explicitly (--provider webgpu,...) still uses such an adapter, as the tests on lavapipe do.
 */
export async function defaultProviders(): Promise<DefaultProviders> {
  const probe = await new Promise<{ found: boolean; software: boolean; description: string; error?: string }>(
    (resolve) => {
      const script = fileURLToPath(new URL('./webgpu-probe.js', import.meta.url));
      execFile(process.execPath, [script], { timeout: 20_000 }, (error, stdout) => {
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
        } catch {
          resolve({
            found: false,
            software: false,
            description: '',
            error: error?.message ?? 'the WebGPU probe printed nothing',
          });
        }
      });
    },
  );
  if (probe.found && !probe.software) return { providers: [...DEFAULT_PROVIDERS] };
  const skippedWebGpu = probe.found
    ? `the only WebGPU adapter is a software rasteriser (${probe.description}), slower than the CPU provider; pass --provider webgpu to use it anyway`
    : `no WebGPU adapter${probe.error ? ` (${probe.error})` : ''}`;
  return { providers: DEFAULT_PROVIDERS.filter((p) => p !== 'webgpu'), skippedWebGpu };
}

export interface ProviderAttempt {
  provider: string;
  error: string;
}

export interface SessionWithProvider {
  session: ort.InferenceSession;
  provider: string;
  /** Providers tried before the chosen one, with why each failed. */
  failed: ProviderAttempt[];
}

/** Splits `cuda,webgpu,cpu` into a list, rejecting empty entries. */
export function parseProviderList(text: string): string[] {
  const list = text.split(',').map((p) => p.trim().toLowerCase());
  if (list.length === 0 || list.some((p) => !/^[a-z0-9_-]+$/.test(p))) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `invalid --provider list '${text}': give names separated by commas, e.g. cuda,webgpu,cpu`,
      { text },
    );
  }
  return list;
}

export async function createSessionWithFallback(
  modelPath: string,
  providers: readonly string[],
  options: { strict?: boolean; log: ServerLog; label: string; sessionOptions?: ort.InferenceSession.SessionOptions },
): Promise<SessionWithProvider> {
  if (providers.length === 0) throw new RwsegError('INVALID_OPTIONS', 'the execution provider list is empty', {});
  const failed: ProviderAttempt[] = [];
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        ...options.sessionOptions,
        executionProviders: [provider as ort.InferenceSession.ExecutionProviderConfig],
      });
      return { session, provider, failed };
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      failed.push({ provider, error: reason });
      if (options.strict) {
        throw new RwsegError(
          'BACKEND_ERROR',
          `${options.label}: execution provider '${provider}' failed and --strict-provider is set: ${reason}`,
          { provider, model: options.label },
        );
      }
      options.log.warn(
        { model: options.label, provider, reason },
        `execution provider '${provider}' unavailable for ${options.label}, trying the next one`,
      );
    }
  }
  throw new RwsegError(
    'BACKEND_ERROR',
    `${options.label}: no execution provider could load the model (${failed.map((f) => `${f.provider}: ${f.error}`).join('; ')})`,
    { model: options.label, failed },
  );
}
