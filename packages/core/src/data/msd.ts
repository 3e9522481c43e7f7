/**
 * The Medical Segmentation Decathlon / nnU-Net raw layout: dataset.json + imagesTr/ + labelsTr/ (+ imagesTs/).
 *
 * v1 (MSD): `training: [{image, label}]`, `test: [path]`, `labels: {"0": "background", ...}`, `modality`.
 * v2 (nnU-Net): `channel_names`, `labels: {"background": 0, ...}`, `file_ending` (any format rwseg reads:
 * .nii.gz, .png, .tif, .nrrd, .mha, ...), `numTraining`; cases are found by listing imagesTr/ for
 * `<case>_<XXXX><file_ending>` (one file per channel; one RGB file _0000 may carry three channels, as nnU-Net's
 * natural-image reader does) and labelsTr/ for `<case><file_ending>`. Region-based labels (a list of ids) are
 * refused: rwseg trains on exclusive classes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import type { CaseRef, DatasetInfo } from './dataset.js';

interface DatasetJson {
  name?: string;
  labels?: Record<string, unknown>;
  modality?: Record<string, string>;
  channel_names?: Record<string, string>;
  file_ending?: string;
  numTraining?: unknown;
  training?: { image?: unknown; label?: unknown }[];
  test?: unknown[];
}

function invalid(file: string, message: string): RwsegError {
  return new RwsegError('INVALID_CONFIG', `${file}: ${message}`, { file });
}

function indexedNames(record: Record<string, string> | undefined): string[] {
  if (!record) return [];
  return Object.entries(record)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, name]) => String(name));
}

function caseIdOf(file: string): string {
  return path.basename(file).replace(/\.nii\.gz$|\.[^.]+$/i, '');
}

/** v1 label keys are class ids; v2 keys are names with ids as values. Both give names by class index. */
function classNames(json: DatasetJson, file: string, v2: boolean): string[] {
  if (!json.labels || typeof json.labels !== 'object') throw invalid(file, 'missing "labels"');
  const names: string[] = [];
  for (const [key, value] of Object.entries(json.labels)) {
    const [id, name] = v2 ? [value, key] : [Number(key), value];
    if (v2 && Array.isArray(value)) {
      throw invalid(
        file,
        `label ${JSON.stringify(key)}: ${JSON.stringify(value)} is an nnU-Net region (a set of label ids); rwseg ` +
          'trains exclusive classes: remove the region entries and "regions_class_order", keeping one id per label',
      );
    }
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw invalid(file, `label ${JSON.stringify(key)}: ${JSON.stringify(value)} is not a class index`);
    }
    names[id as number] = String(name);
  }
  for (let i = 0; i < names.length; i++) {
    if (names[i] === undefined) throw invalid(file, `"labels" skips class ${i}; class indices must be 0..K-1`);
  }
  return names;
}

function listV2Cases(root: string, folder: string, ending: string, withLabels: boolean): CaseRef[] {
  const dir = path.join(root, folder);
  if (!existsSync(dir)) return [];
  const pattern = /^(.*)_(\d{4})$/;
  const channels = new Map<string, string[]>();
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || !name.endsWith(ending)) continue;
    const stem = name.slice(0, -ending.length);
    const match = pattern.exec(stem);
    if (!match)
      throw new RwsegError(
        'INVALID_INPUT',
        `${path.join(dir, name)}: nnU-Net v2 image names end in _XXXX (channel) before ${ending}`,
        { file: path.join(dir, name) },
      );
    const list = channels.get(match[1]!) ?? [];
    list[Number(match[2])] = path.join(dir, name);
    channels.set(match[1]!, list);
  }
  return [...channels].map(([id, images]) => ({
    id,
    images,
    ...(withLabels ? { label: path.join(root, 'labelsTr', id + ending) } : {}),
  }));
}

export function openMsdDataset(root: string): DatasetInfo {
  const file = path.join(root, 'dataset.json');
  let json: DatasetJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as DatasetJson;
  } catch (error) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${file}: cannot read dataset.json (${(error as Error).message})`,
      { file },
      { cause: error },
    );
  }
  const v2 = json.channel_names !== undefined || json.file_ending !== undefined;
  const names = classNames(json, file, v2);
  const channelNames = indexedNames(v2 ? json.channel_names : json.modality);
  let training: CaseRef[];
  let test: CaseRef[];
  if (v2) {
    const ending = json.file_ending ?? '.nii.gz';
    // nnU-Net's natural-image reader takes an RGB PNG/BMP/TIFF as one _0000 file with three channel_names.
    const rgbInOneFile = ['.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg'].includes(ending.toLowerCase());
    training = listV2Cases(root, 'imagesTr', ending, true);
    test = listV2Cases(root, 'imagesTs', ending, false);
    for (const c of [...training, ...test]) {
      const found = c.images.filter(Boolean).length;
      const complete = found === c.images.length && (found === channelNames.length || (found === 1 && rgbInOneFile));
      if (!complete) {
        const names = channelNames.map((_, k) => `${c.id}_${String(k).padStart(4, '0')}${ending}`).join(', ');
        const present = c.images
          .filter(Boolean)
          .map((f) => path.basename(f))
          .join(', ');
        throw new RwsegError(
          'INVALID_INPUT',
          `case ${c.id}: expected ${channelNames.length} channel file(s) (${names}) as channel_names lists; ` +
            `found ${found} (${present})`,
          { caseId: c.id },
        );
      }
    }
    for (const c of training) {
      if (!existsSync(c.label!)) {
        const message = `case ${c.id}: label ${c.label} not found (labelsTr/<case>${ending})`;
        throw new RwsegError('INVALID_INPUT', message, { caseId: c.id, file: c.label });
      }
    }
    if (json.numTraining !== undefined && json.numTraining !== training.length) {
      const found = `imagesTr/ holds ${training.length} case(s) ending in ${ending}`;
      throw invalid(file, `numTraining is ${JSON.stringify(json.numTraining)} but ${found}`);
    }
  } else {
    if (!Array.isArray(json.training)) throw invalid(file, 'missing "training" list');
    training = json.training.map((entry, i) => {
      if (typeof entry?.image !== 'string' || typeof entry.label !== 'string')
        throw invalid(file, `training[${i}] needs "image" and "label" paths`);
      return {
        id: caseIdOf(entry.image),
        images: [path.resolve(root, entry.image)],
        label: path.resolve(root, entry.label),
      };
    });
    test = (json.test ?? []).map((entry, i) => {
      if (typeof entry !== 'string') throw invalid(file, `test[${i}] must be a path`);
      return { id: caseIdOf(entry), images: [path.resolve(root, entry)] };
    });
  }
  if (training.length === 0) throw invalid(file, 'lists no training cases');
  return {
    kind: 'msd',
    name: json.name ?? path.basename(root),
    root,
    numClasses: names.length,
    classNames: names,
    channelNames: channelNames.length ? channelNames : ['image'],
    training,
    test,
  };
}
