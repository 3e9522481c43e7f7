/**
 * Execution provider selection. onnxruntime does not fall back by itself when a provider in a list fails to
 * load (a missing CUDA library is an error, not a skip), so each provider is tried alone, in order.
 */
import * as ort from 'onnxruntime-node';
import { RwsegError } from '@rwseg/core';
import type { ServerLog } from './log.js';

export const DEFAULT_PROVIDERS: readonly string[] = ['cuda', 'webgpu', 'cpu'];

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
    throw new RwsegError('INVALID_OPTIONS', `invalid --provider list '${text}': give names separated by commas, e.g. cuda,webgpu,cpu`, { text });
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
        throw new RwsegError('BACKEND_ERROR', `${options.label}: execution provider '${provider}' failed and --strict-provider is set: ${reason}`, { provider, model: options.label });
      }
      options.log.warn({ model: options.label, provider, reason }, `execution provider '${provider}' unavailable for ${options.label}, trying the next one`);
    }
  }
  throw new RwsegError('BACKEND_ERROR', `${options.label}: no execution provider could load the model (${failed.map((f) => `${f.provider}: ${f.error}`).join('; ')})`, { model: options.label, failed });
}
