/**
 * The plugin packages that ship with rwseg. They are loaded by package name through the same loader as any
 * third-party plugin; the core never imports them, so it knows no concrete loss or map.
 */
export const BUILTIN_PLUGINS: readonly string[] = [
  '@rwseg/plugin-maps-distance',
  '@rwseg/plugin-maps-active-contour',
  '@rwseg/plugin-loss-cross-entropy',
  '@rwseg/plugin-loss-dice',
  '@rwseg/plugin-loss-focal',
  '@rwseg/plugin-loss-boundary',
  '@rwseg/plugin-loss-region-wise',
  '@rwseg/plugin-loss-hausdorff',
  '@rwseg/plugin-loss-lovasz',
  // After cross-entropy and dice: it builds its parts from them by name.
  '@rwseg/plugin-loss-compound',
];
