/**
 * Named combinations that other toolkits ship as one loss. `dc-and-ce` is nnU-Net's DC_and_CE_loss (Isensee et al.,
 * "nnU-Net: a self-configuring method for deep learning-based biomedical image segmentation", Nature Methods 2021;
 * nnunetv2/training/loss/compound_losses.py with MemoryEfficientSoftDiceLoss):
 *   L = weightCe * CE + weightDice * (-dc),  dc = mean_{b,k} (2 sum p y + smooth) / (sum p + sum y + smooth)
 * over the foreground classes (nnU-Net's do_bg False), pooled over the batch with batchDice. nnU-Net's Dice term is
 * -dc, not 1 - dc: the value is 1 * weightDice below CE + Dice loss and the gradient is the same. It is built from
 * the registered 'cross-entropy' and 'dice' losses (@rwseg/plugin-loss-cross-entropy, @rwseg/plugin-loss-dice).
 * `dc-and-bce` is nnU-Net's DC_and_BCE_loss for region-based training (sigmoid probabilities, a multi-label target,
 * every region in the Dice term): weightCe * BCE + weightDice * (-dc).
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
} from '@rwseg/core/plugin';

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
          const crossEntropy = named('dc-and-ce', () => ce.compute(input));
          // -dc = (1 - dc) - 1: the Dice loss less one, nnU-Net's value.
          const negativeDice = tf.sub(dice.compute(input), 1);
          return tf.add(tf.mul(crossEntropy, options.weightCe), tf.mul(negativeDice, options.weightDice));
        }),
    };
  },
});

const dcAndBce = defineLoss({
  name: 'dc-and-bce',
  description: "nnU-Net's DC_and_BCE_loss for region-based training: weightCe * BCE - weightDice * soft Dice (sigmoid)",
  options: z.object({
    weightCe: z.number().nonnegative().default(1).describe('weight of the binary cross-entropy (nnU-Net weight_ce)'),
    weightDice: z.number().nonnegative().default(1).describe('weight of the Dice term (nnU-Net weight_dice)'),
    batchDice: z.boolean().default(false).describe('pool the batch per region in the Dice term (nnU-Net batch_dice)'),
    smooth: z
      .number()
      .nonnegative()
      .default(1e-5)
      .describe("added to the Dice numerator and denominator (nnU-Net's 1e-5)"),
    validateInputs: validateInputsOption,
  }),
  create: (options, tools) => {
    const { validateInputs } = options;
    const bce = tools.createLoss('cross-entropy', { sigmoid: true, validateInputs });
    // Regions have no background channel: nnU-Net's do_bg is True here.
    const dice = tools.createLoss('dice', {
      sigmoid: true,
      smoothNr: options.smooth,
      smoothDr: options.smooth,
      batch: options.batchDice,
      includeBackground: true,
      validateInputs: false,
    });
    return {
      name: 'dc-and-bce',
      requiredMaps: [],
      compute: (input) =>
        tf.tidy(() => {
          const crossEntropy = named('dc-and-bce', () => bce.compute(input));
          const negativeDice = tf.sub(dice.compute(input), 1);
          return tf.add(tf.mul(crossEntropy, options.weightCe), tf.mul(negativeDice, options.weightDice));
        }),
    };
  },
});

/** A part's error, said to come from the combination: the user configured the combination, not its parts. */
function named<T>(loss: string, part: () => T): T {
  try {
    return part();
  } catch (error) {
    if (!isRwsegError(error)) throw error;
    throw new RwsegError(
      error.code,
      `loss '${loss}' (plugin ${PLUGIN}): ${error.message}`,
      { ...error.details, loss },
      { cause: error },
    );
  }
}

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: PLUGIN,
  description: "Named loss combinations: nnU-Net's DC_and_CE and DC_and_BCE",
  losses: [dcAndCe, dcAndBce],
});
