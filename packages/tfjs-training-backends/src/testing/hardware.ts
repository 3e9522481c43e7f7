/**
 * Whether tests that need hardware can run on this machine. A developer's machine without it skips them with
 * the reason; CI (CI=true) runs them regardless, so a missing install there fails loudly instead of passing as
 * "skipped".
 */
import { existsSync } from 'node:fs';
import { probeVulkan, WEBGPU_INSTALL_HINT } from '../webgpu/diagnose.js';

/** The Mesa lavapipe manifest Debian installs: the software Vulkan driver the GPU-path tests pin. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * Why Vulkan tests cannot run here, or undefined when they can (or, under CI, must). With `lavapipe`, the tests
 * pin Mesa's software driver, so that one must be present; Dawn refuses lavapipe older than Mesa 25.
 */
export function vulkanSkipReason(
  options: { lavapipe?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (isCi(env)) return undefined;
  const facts = probeVulkan(env);
  if (facts.loaders.length === 0) return `no Vulkan loader (libvulkan.so.1) on this machine. ${WEBGPU_INSTALL_HINT}`;
  const lavapipe = existsSync(LAVAPIPE_ICD);
  if (options.lavapipe ? !lavapipe : facts.icds.length === 0) {
    return `no ${options.lavapipe ? 'Mesa lavapipe' : 'Vulkan'} driver on this machine. ${WEBGPU_INSTALL_HINT}`;
  }
  const mesaMajor = Number.parseInt(facts.mesaVersion ?? '', 10);
  const onlyLavapipe = options.lavapipe || facts.icds.every((icd) => icd.includes('lvp_icd'));
  if (onlyLavapipe && mesaMajor < 25)
    return `Mesa lavapipe ${facts.mesaVersion} is older than 25, which Dawn needs. ${WEBGPU_INSTALL_HINT}`;
  return undefined;
}
