/**
 * Checkpoint files: one self-checking binary file per checkpoint.
 *
 *   "RWSEGCK1" | uint32 LE header length | header JSON | tensor bytes (float32, in header order)
 *
 * The header records each tensor's name, shape and byte range, the total data length and its SHA-256, so a
 * truncated or altered file is detected before any weight is loaded, and the error names the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';

const MAGIC = 'RWSEGCK1';

export interface CheckpointTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface CheckpointContent {
  /** Completed epochs: the 1-based epoch this checkpoint ends (epoch-NNNN.ckpt); resuming starts at epoch + 1. */
  readonly epoch: number;
  readonly meta: Record<string, unknown>;
  readonly tensors: readonly CheckpointTensor[];
}

interface Header {
  epoch: number;
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  dataBytes: number;
  sha256: string;
}

export function encodeCheckpoint(content: CheckpointContent): Buffer {
  let offset = 0;
  const entries = content.tensors.map((t) => {
    const entry = { name: t.name, shape: [...t.shape], offset, length: t.data.length };
    offset += t.data.byteLength;
    return entry;
  });
  const data = Buffer.alloc(offset);
  content.tensors.forEach((t, i) =>
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(data, entries[i]!.offset),
  );
  const header: Header = {
    epoch: content.epoch,
    meta: content.meta,
    tensors: entries,
    dataBytes: offset,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  return Buffer.concat([Buffer.from(MAGIC), length, headerBytes, data]);
}

export function decodeCheckpoint(bytes: Buffer, file: string): CheckpointContent {
  const corrupt = (why: string) => new RwsegError('IO_ERROR', `checkpoint ${file} is unreadable: ${why}`, { file });
  if (bytes.length < 12 || bytes.subarray(0, 8).toString() !== MAGIC)
    throw corrupt('not an rwseg checkpoint (bad magic bytes)');
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length)
    throw corrupt(`truncated: header needs ${headerLength} bytes, file has ${bytes.length - 12}`);
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString()) as Header;
  } catch {
    throw corrupt('header is not valid JSON');
  }
  const data = bytes.subarray(12 + headerLength);
  if (data.length !== header.dataBytes)
    throw corrupt(`truncated: ${header.dataBytes} bytes of weights expected, ${data.length} present`);
  if (createHash('sha256').update(data).digest('hex') !== header.sha256)
    throw corrupt('checksum mismatch (the file was altered)');
  // Copy into an aligned buffer: the data section starts at an arbitrary byte offset.
  const aligned = new Uint8Array(data).buffer;
  const tensors = header.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    data: new Float32Array(aligned, t.offset, t.length),
  }));
  return { epoch: header.epoch, meta: header.meta, tensors };
}

export function writeCheckpoint(file: string, content: CheckpointContent): void {
  writeFileAtomic(file, encodeCheckpoint(content));
}

export function readCheckpoint(file: string): CheckpointContent {
  if (!existsSync(file)) throw new RwsegError('IO_ERROR', `checkpoint ${file} does not exist`, { file });
  return decodeCheckpoint(readFileSync(file), file);
}

export const checkpointName = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}.ckpt`;

/** Epoch checkpoints in a folder, newest first. */
export function listCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^epoch-\d+\.ckpt$/.test(f))
    .sort()
    .reverse()
    .map((f) => path.join(dir, f));
}

/**
 * The newest checkpoint for --resume. A corrupt newest file is an error (silently going back an epoch would hide
 * a real problem), naming the file and the previous checkpoint that still reads, to pass explicitly.
 */
export function latestCheckpoint(dir: string): { file: string; content: CheckpointContent } | undefined {
  const files = listCheckpoints(dir);
  if (files.length === 0) return undefined;
  try {
    return { file: files[0]!, content: readCheckpoint(files[0]!) };
  } catch (error) {
    if (!(error instanceof RwsegError)) throw error;
    const previous = files.slice(1).find((f) => {
      try {
        readCheckpoint(f);
        return true;
      } catch {
        return false;
      }
    });
    const resumeFrom = `resume from it with --resume-from ${previous} (rwseg train, rwseg pipeline run)`;
    const advice = previous
      ? `; the previous checkpoint ${previous} is intact: ${resumeFrom}`
      : '; no earlier intact checkpoint exists';
    throw new RwsegError('IO_ERROR', `${error.message}${advice}`, { file: files[0], previous });
  }
}
