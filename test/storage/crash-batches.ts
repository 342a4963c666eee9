// Batches of the crash test, a pure function of their base offset, so that the parent can tell the
// exact bytes every offset must hold. Not a test file itself.
import type { LogOptions } from '../../src/storage/log-options.ts';
import { sizedBatch } from './helpers.ts';

export const CRASH_LOG_OPTIONS: Partial<LogOptions> = {
  syncIntervalMs: 0,
  segmentBytes: 96 * 1024,
  indexIntervalBytes: 1024,
  preallocateBytes: 128 * 1024,
};

/** The batch appended at `baseOffset`, stamped as the log stamps it (leader epoch 3). */
export function crashBatch(baseOffset: number): Buffer {
  const h = (baseOffset * 2654435761) >>> 0;
  const b = sizedBatch(1 + (h % 5), 100 + (h % 9000), baseOffset);
  b.writeBigInt64BE(BigInt(baseOffset), 0);
  b.writeInt32BE(3, 12);
  return b;
}
