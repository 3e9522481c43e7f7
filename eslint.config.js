// ESLint flat config: typescript-eslint's recommended rules (no type information, so it runs in seconds) over the
// sources, tests and scripts. Each rule turned off says why; `npm run lint` runs it, and `npm test` runs it first.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', '**/fixtures/**', 'packages/core/simd/**', 'docs/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Non-null assertions index typed arrays under noUncheckedIndexedAccess, where the bound is checked by hand.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `_name` marks a value destructured away on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Typed-array constructors are keyed by `Function` in the format tables (NIfTI, ITK datatypes).
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Constants are quoted at the precision of their source (SELU's, from the paper and TF.js).
      'no-loss-of-precision': 'off',
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      // `let [a, b] = ...` where only b is reassigned reads better than splitting the pair.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // Tests and benchmarks read loosely typed JSON replies and poke at internals; the sources stay strict.
    files: ['**/test/**', 'test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
