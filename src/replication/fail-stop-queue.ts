/**
 * The file work of one Raft log store, one operation at a time, in order. The first failure takes the
 * store offline for good: a failed write or fsync is never retried (docs/errors.md), so every later
 * operation fails with the same error, and the store's owner rebuilds it from disk.
 */
import type { StreamBusError } from '../util/errors.ts';

export class FailStopQueue {
  private tail: Promise<void> = Promise.resolve();
  private failureValue: StreamBusError | null = null;

  /** `offline` turns the first error into the store's failure (with the store's directory in it). */
  constructor(private readonly offline: (error: unknown) => StreamBusError) {}

  /** The error that took the store offline, or null. */
  get failure(): StreamBusError | null {
    return this.failureValue;
  }

  /** Resolves once every operation queued so far has finished (failed ones included). */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Runs `operation` after the ones queued before it, unless the store failed by then. */
  enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.failureValue !== null) throw this.failureValue;
      try {
        await operation();
      } catch (error) {
        this.fail(error);
        throw this.failureValue!;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Takes the store offline with `error` (the first one counts). */
  fail(error: unknown): void {
    if (this.failureValue === null) this.failureValue = this.offline(error);
  }
}
