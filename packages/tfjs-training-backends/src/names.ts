/**
 * The backends' names and the software-adapter test, with no TF.js behind them: pipeline schemas, the CLI's flags
 * and the inference server read these without paying for a backend they may never load (`/names` sub-path).
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

/** The fields of a WebGPU adapter's info that name what it is. */
export interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|software/i;

/** Whether an adapter is a CPU rasteriser: Dawn flags them as fallback adapters; older builds only name them. */
export function isSoftwareAdapter(info: GpuAdapterInfo, adapterFlag?: boolean): boolean {
  if (info.isFallbackAdapter || adapterFlag) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}
