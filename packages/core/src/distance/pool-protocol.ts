/** Messages between MapWorkerPool and its workers (plain data, structured-clone safe). */
import type { SerializedError } from '../errors.js';
import type { LabelMapInput } from '../plugins/api.js';

export type PoolJob =
  | {
      readonly kind: 'map';
      readonly map: string;
      readonly options: Record<string, unknown>;
      readonly input: LabelMapInput;
    }
  | {
      readonly kind: 'edt';
      readonly mask: ArrayLike<number>;
      readonly shape: readonly number[];
      readonly spacing: readonly number[];
    };

export interface PoolRequest {
  readonly id: number;
  readonly job: PoolJob;
}

export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly result: Float32Array | Float64Array }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export interface PoolWorkerData {
  /** Plugin specifiers (package names or absolute paths) loaded on top of the built-ins. */
  readonly plugins: readonly string[];
  readonly baseDir: string;
  readonly builtins: boolean;
}
