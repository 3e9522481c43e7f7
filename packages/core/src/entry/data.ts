/** `@rwseg/core/data`: datasets (MSD/nnU-Net, folder pairs, synthetic), preprocessing, augmentation and the loader. */
export * from '../data/index.js';
