// The hardware checks live with the webgpu code in @rwseg/tfjs-training-backends; core's /testing re-exports them.
export { isCi, LAVAPIPE_ICD, vulkanSkipReason } from '@rwseg/tfjs-training-backends/testing';
