/**
 * The real datasets in shared/data beside the checkout, for the cross-package tests. `sharedTest` is ava's test,
 * skipped with the reason (printed once per file) on a machine without the folder; under CI it always runs.
 */
import test from 'ava';
import { locateShared } from '@rwseg/core/testing';

const shared = locateShared('data', import.meta.url);
if (shared.skip) console.log(`tests on the real datasets skipped: ${shared.skip}`);

/** shared/data ('' where absent, and then every sharedTest is skipped). */
export const SHARED_DATA = shared.path ?? '';
export const sharedTest = shared.skip ? test.skip : test;
