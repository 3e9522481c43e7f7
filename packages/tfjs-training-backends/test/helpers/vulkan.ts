/**
 * `test` for the files whose tests need a Vulkan driver: on a machine without one they are declared skipped and
 * the reason is printed once; under CI they always run (src/testing/hardware.ts).
 */
import test from 'ava';
import { vulkanSkipReason } from '../../src/testing/index.js';

const reason = vulkanSkipReason();
if (reason) console.log(`Vulkan tests skipped here (CI runs them): ${reason}`);

export const vulkanTest = reason ? test.skip : test;
export const vulkanSerialTest = reason ? test.serial.skip : test.serial;
