/**
 * Named combinations that other toolkits ship as one loss. `dc-and-ce` is nnU-Net's DC_and_CE_loss (Isensee et al.,
 * "nnU-Net: a self-configuring method for deep learning-based biomedical image segmentation", Nature Methods 2021;
 * nnunetv2/training/loss/compound_losses.py with MemoryEfficientSoftDiceLoss):
 *   L = weightCe * CE + weightDice * (-dc),  dc = mean_{b,k} (2 sum p y + smooth) / (sum p + sum y + smooth)
 * over the foreground classes (nnU-Net's do_bg False), pooled over the batch with batchDice. nnU-Net's Dice term is
 * -dc, not 1 - dc: the value is 1 * weightDice below CE + Dice loss and the gradient is the same. It is built from
 * the registered 'cross-entropy' and 'dice' losses (@rwseg/plugin-loss-cross-entropy, @rwseg/plugin-loss-dice).
 */
import {
  definePlugin,
  defineLoss,
  includeBackgroundOption,
  isRwsegError,
  PLUGIN_API_VERSION,
  RwsegError,
  tf,
  validateInputsOption,
  z,
} from '@rwseg/core';

const PLUGIN = '@rwseg/plugin-loss-compound';

const dcAndCe = defineLoss({
  name: 'dc-and-ce',
  description: "nnU-Net's DC_and_CE_loss: weightCe * CE - weightDice * soft Dice (foreground classes, smooth 1e-5)",
  options: z.object({
    weightCe: z.number().nonnegative().default(1).describe('weight of the cross-entropy (nnU-Net weight_ce)'),
    weightDice: z.number().nonnegative().default(1).describe('weight of the Dice term (nnU-Net weight_dice)'),
    batchDice: z
      .boolean()
      .default(false)
      .describe('pool the batch per class in the Dice term (nnU-Net batch_dice; its plans set it per configuration)'),
    smooth: z
      .number()
      .nonnegative()
      .default(1e-5)
      .describe("added to the Dice numerator and denominator (nnU-Net's 1e-5)"),
    includeBackground: includeBackgroundOption(false).describe('include class 0 in the Dice term (nnU-Net do_bg)'),
    validateInputs: validateInputsOption,
  }),
  create: (options, tools) => {
    const { validateInputs } = options;
    const ce = tools.createLoss('cross-entropy', { validateInputs });
    const dice = tools.createLoss('dice', {
      smoothNr: options.smooth,
      smoothDr: options.smooth,
      batch: options.batchDice,
      includeBackground: options.includeBackground,
      // The cross-entropy has checked the same tensors.
      validateInputs: false,
    });
    return {
      name: 'dc-and-ce',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const crossEntropy = named(() => ce.compute(input));
          // -dc = (1 - dc) - 1: the Dice loss less one, nnU-Net's value.
          const negativeDice = tf.sub(dice.compute(input), 1);
          return tf.add(tf.mul(crossEntropy, options.weightCe), tf.mul(negativeDice, options.weightDice));
        }),
    };
  },
});

/** The part's error, said to come from dc-and-ce: the user configured dc-and-ce, not its parts. */
function named<T>(part: () => T): T {
  try {
    return part();
  } catch (error) {
    if (!isRwsegError(error)) throw error;
    throw new RwsegError(
      error.code,
      `loss 'dc-and-ce' (plugin ${PLUGIN}): ${error.message}`,
      { ...error.details, loss: 'dc-and-ce' },
      { cause: error },
    );
  }
}

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: "Named loss combinations: nnU-Net's DC_and_CE",
  losses: [dcAndCe],
});
