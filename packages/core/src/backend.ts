/**
 * TF.js backend selection. Backends register themselves on import, so each is imported only when asked for:
 * importing webgpu without a GPU or tfjs-node without libtensorflow would fail or print noise.
 */
import { RwsegError } from './errors.js';
import { tf } from './tf.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

// The cpu backend greets Node users with a banner recommending tfjs-node; rwseg chooses backends itself.
tf.env().set('PROD', true);

const importers: Record<'wasm' | 'cpu', () => Promise<unknown>> = {
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
};

/** Makes `name` the active TF.js backend, importing it on first use. Returns the active backend's name. */
export async function useBackend(name: BackendName): Promise<BackendName> {
  if (tf.getBackend() === name) return name;
  if (name === 'cpu' || name === 'wasm') {
    await importers[name]();
  } else {
    throw new RwsegError('BACKEND_ERROR', `backend '${name}' is not available in this build of rwseg yet; use --backend cpu or wasm`, { backend: name });
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new RwsegError('BACKEND_ERROR', `backend '${name}' failed to initialise`, { backend: name });
  await tf.ready();
  return name;
}
