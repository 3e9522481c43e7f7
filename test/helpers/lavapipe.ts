/**
 * Environment that makes Mesa lavapipe (the CPU Vulkan driver, installed by .ci/run) the only Vulkan driver the
 * loader sees, so the GPU-path tests get the same software adapter on every machine, one with a GPU included.
 */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
export const LAVAPIPE_ONLY: NodeJS.ProcessEnv = { VK_DRIVER_FILES: LAVAPIPE_ICD, VK_ICD_FILENAMES: LAVAPIPE_ICD };
