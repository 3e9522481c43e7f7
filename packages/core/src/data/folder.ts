/**
 * A folder pair: images/ and labels/ holding one image and one mask per case, in any formats rwseg reads, which
 * may differ (TIFF images with GIF masks, JPEG with PNG). The pairing rule is explicit and extension-blind:
 *
 *   case id    = image file name without its extension and without `imageSuffix`   (e.g. 21_training.tif -> 21)
 *   mask name  = case id + `maskSuffix` + any image extension                       (e.g. 21 -> 21_manual1.gif)
 *
 * A sub-folder of images/ is a DICOM series, its name the case's. `imageGlob` (wildcards * and ?) picks which
 * files of images/ are images. Defaults: every image file, no
 * suffixes (images/NAME.png with labels/NAME.png). An image without a mask, or with two (NAME.gif and NAME.png),
 * is an error naming the files: nothing trains on a half-paired dataset.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { imageExtension } from '../io/files.js';
import { IMAGE_EXTENSIONS, isImageFile } from '../io/volume-io.js';
import type { CaseRef, DatasetInfo } from './dataset.js';
import { classCountOfMapping, normalizeLabelMapping, type LabelMapping } from './labels.js';

export interface FolderPairing {
  /** Part of the image name (before the extension) that is not the case id, e.g. "_training". */
  imageSuffix?: string;
  /** What the mask name adds to the case id, e.g. "_manual1" or "_segmentation". */
  maskSuffix?: string;
  /** Which files of the image folder are images, e.g. "*_training.tif" (wildcards * and ?). */
  imageGlob?: string;
}

export interface FolderDatasetOptions extends FolderPairing {
  /** Sub-folder names (default images/ and labels/). */
  images?: string;
  labels?: string;
  /** Stored label value -> class, e.g. {0: 0, 255: 1} or [0, 255]. Without it stored values are class indices. */
  labelMapping?: LabelMapping;
  /** Required without a mapping when labels hold more than two classes (default 2). */
  numClasses?: number;
  classNames?: string[];
}

function stem(file: string): string {
  const ext = imageExtension(file);
  return ext ? file.slice(0, -ext.length) : file;
}

/** A shell-style glob (only * and ?) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** One line saying how images and masks were paired, for `dataset check`. */
export function describePairing(imageDir: string, labelDir: string, pairing: FolderPairing): string {
  const images = `${path.basename(imageDir)}/${pairing.imageGlob ?? '*'}`;
  const id = pairing.imageSuffix ? `<id>${pairing.imageSuffix}.<ext>` : '<id>.<ext>';
  return `${images} as ${id} with ${path.basename(labelDir)}/<id>${pairing.maskSuffix ?? ''}.<any image extension>`;
}

export function pairFolderCases(imageDir: string, labelDir: string, pairing: FolderPairing = {}): CaseRef[] {
  const { imageSuffix = '', maskSuffix = '' } = pairing;
  const glob = pairing.imageGlob ? globToRegExp(pairing.imageGlob) : undefined;
  const labelsByStem = new Map<string, string[]>();
  for (const f of readdirSync(labelDir).sort()) {
    if (f.startsWith('.') || !isImageFile(f)) continue;
    const list = labelsByStem.get(stem(f)) ?? [];
    list.push(path.join(labelDir, f));
    labelsByStem.set(stem(f), list);
  }
  // A sub-folder of the image folder is a DICOM series (one case), named by the folder.
  const isSeries = (f: string) => statSync(path.join(imageDir, f)).isDirectory();
  const images = readdirSync(imageDir)
    .filter((f) => !f.startsWith('.') && (isImageFile(f) || isSeries(f)) && (!glob || glob.test(f)))
    .sort();
  if (images.length === 0) {
    const what = pairing.imageGlob ? `no image matches the image glob "${pairing.imageGlob}"` : 'no image files';
    throw new RwsegError('INVALID_INPUT', `${imageDir}: ${what} (rwseg reads ${IMAGE_EXTENSIONS.join(', ')})`, {
      file: imageDir,
    });
  }
  const seen = new Map<string, string>();
  return images.map((f) => {
    const file = path.join(imageDir, f);
    const base = isSeries(f) ? f : stem(f);
    if (imageSuffix && !base.endsWith(imageSuffix)) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: name does not end in the image suffix "${imageSuffix}" before its extension; narrow the images ` +
          `with --image-glob`,
        { file },
      );
    }
    const id = imageSuffix ? base.slice(0, -imageSuffix.length) : base;
    const twin = seen.get(id);
    if (twin)
      throw new RwsegError(
        'INVALID_INPUT',
        `${file} and ${twin} are the same case "${id}" (two images with one name); keep one, or narrow the images ` +
          `with --image-glob`,
        { file },
      );
    seen.set(id, file);
    const labels = labelsByStem.get(id + maskSuffix) ?? [];
    if (labels.length === 0) {
      const expected = `${path.join(labelDir, `${id}${maskSuffix}`)}.<png|tif|gif|...>`;
      const hint = maskSuffix ? '' : ' (set --mask-suffix when mask names add a suffix, e.g. _manual1)';
      throw new RwsegError('INVALID_INPUT', `${file} has no label: expected ${expected}${hint}`, { file });
    }
    if (labels.length > 1) {
      throw new RwsegError('INVALID_INPUT', `${file} matches ${labels.length} masks (${labels.join(', ')}); keep one`, {
        file,
        labels,
      });
    }
    return { id, images: [file], label: labels[0]! };
  });
}

export function openFolderDataset(root: string, options: FolderDatasetOptions = {}): DatasetInfo {
  const imageDir = path.resolve(root, options.images ?? 'images');
  const labelDir = path.resolve(root, options.labels ?? 'labels');
  for (const dir of [imageDir, labelDir]) {
    if (!existsSync(dir))
      throw new RwsegError(
        'IO_ERROR',
        `${dir}: folder not found (a folder dataset needs an image folder and a mask folder, default images/ and ` +
          `labels/)`,
        { file: dir },
      );
  }
  const pairing: FolderPairing = {
    ...(options.imageSuffix ? { imageSuffix: options.imageSuffix } : {}),
    ...(options.maskSuffix ? { maskSuffix: options.maskSuffix } : {}),
    ...(options.imageGlob ? { imageGlob: options.imageGlob } : {}),
  };
  const training = pairFolderCases(imageDir, labelDir, pairing);
  const labelMap = options.labelMapping ? normalizeLabelMapping(options.labelMapping) : undefined;
  const numClasses = options.numClasses ?? (labelMap ? classCountOfMapping(labelMap) : 2);
  const classNames =
    options.classNames ?? Array.from({ length: numClasses }, (_, i) => (i === 0 ? 'background' : `class${i}`));
  if (classNames.length !== numClasses) {
    throw new RwsegError('INVALID_OPTIONS', `classNames has ${classNames.length} names for ${numClasses} classes`, {
      option: 'classNames',
    });
  }
  return {
    kind: 'folder',
    name: path.basename(path.resolve(root)),
    root,
    numClasses,
    classNames,
    channelNames: ['image'],
    training,
    test: [],
    pairing: describePairing(imageDir, labelDir, pairing),
    ...(labelMap ? { labelMap } : {}),
  };
}
