/** A training run in a child process, for the kill -9 / resume test: node train-child.js OUT_DIR EPOCHS [resume]. */
import { train, useBackend } from '../../src/index.js';
import { childTrainingOptions } from './toy-training.js';

const [outDir, epochs, resume] = process.argv.slice(2);
await useBackend('cpu');
await train(childTrainingOptions(outDir!, Number(epochs), resume === 'resume'));
