/**
 * Environment that makes Mesa lavapipe (the CPU Vulkan driver, installed by .ci/run) the only Vulkan driver the
 * loader sees, so the GPU-path tests get the same software adapter on every machine, one with a GPU included.
 * `lavapipeTest` declares such a test: skipped with the reason on a machine without lavapipe, always run under CI.
 */
import test from 'ava';
import { LAVAPIPE_ICD, vulkanSkipReason } from '@rwseg/core/testing';

export { LAVAPIPE_ICD };
export const LAVAPIPE_ONLY: NodeJS.ProcessEnv = { VK_DRIVER_FILES: LAVAPIPE_ICD, VK_ICD_FILENAMES: LAVAPIPE_ICD };

const reason = vulkanSkipReason({ lavapipe: true });
if (reason) console.log(`lavapipe tests skipped here (CI runs them): ${reason}`);

export const lavapipeTest = reason ? test.skip : test;
export const lavapipeSerialTest = reason ? test.serial.skip : test.serial;
