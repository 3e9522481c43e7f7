import { Args, Flags } from '@oclif/core';
import { convertToNnUNet, NNUNET_FILE_ENDINGS, openDataset, type NnUNetFileEnding } from '@rwseg/core/data';
import { RwsegCommand } from '../../base-command.js';
import { datasetFlags, datasetOptionsFromFlags } from '../../dataset-flags.js';

export default class DatasetConvert extends RwsegCommand {
  static override summary = 'Write a dataset (any layout and formats rwseg reads) as an nnU-Net v2 raw folder.';
  static override description =
    'Writes dataset.json (channel_names, labels, numTraining, file_ending), imagesTr/<case>_<XXXX><ending> per ' +
    'channel, labelsTr/<case><ending> with the classes rwseg would train on (label map or 0/255 -> 0/1 applied), ' +
    "and imagesTs/. Labels take their image's spacing and orientation. The folder appears only once complete.";
  static override examples = [
    '<%= config.bin %> dataset convert ./DRIVE/training --labels 1st_manual --image-suffix _training --mask-suffix ' +
      '_manual1 --out ./Dataset101_DRIVE',
    '<%= config.bin %> dataset convert ./ct-series --out ./Dataset102_CT --file-ending .nrrd',
  ];
  static override args = { path: Args.string({ required: true, description: 'dataset folder' }) };
  static override flags = {
    ...datasetFlags,
    out: Flags.string({ required: true, description: 'new output folder (nnU-Net names it DatasetXXX_Name)' }),
    'file-ending': Flags.option({
      options: NNUNET_FILE_ENDINGS,
      default: '.nii.gz',
      description: 'format of the written images and labels',
    })(),
  };

  async run() {
    const { args, flags } = await this.parse(DatasetConvert);
    const info = openDataset(args.path, datasetOptionsFromFlags(flags));
    const interactive = !this.jsonEnabled() && process.stderr.isTTY;
    const result = await convertToNnUNet(info, flags.out, {
      fileEnding: flags['file-ending'] as NnUNetFileEnding,
      onCase: (done, total, id) => {
        if (interactive) process.stderr.write(`\r  writing ${done}/${total} (${id})   `);
      },
    });
    if (interactive) process.stderr.write('\n');
    if (!this.jsonEnabled()) {
      this.log(
        `wrote ${result.training} training and ${result.test} test case(s) to ${result.out} (${result.fileEnding}; ` +
          `channels ${result.channelNames.join(', ')})`,
      );
    }
    return result;
  }
}
