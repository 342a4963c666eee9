/**
 * Batches ended spans for the exporter, like the SDK's BatchSpanProcessor, with one difference that
 * matters on a broker: an export never starts inside `onEnd`. The SDK's processor serializes and sends
 * a full batch synchronously in the `span.end()` that fills it, i.e. inside one Kafka request, before
 * its response is written (about 5 ms for 512 spans). Here a full batch is sent from the next
 * `setImmediate`, after the current request's response, and a partial one from a timer.
 *
 * It holds no bound of its own: the caller (CountingPipeline) admits at most its queue limit.
 * One export is in flight at a time; an exporter that never answers is given up on after
 * `exportTimeoutMs`, so the next batch can go.
 */
import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanBatcherLimits {
  /** Spans per export call, at most. */
  readonly batchMax: number;
  /** How long a partial batch waits for more spans. */
  readonly delayMs: number;
  /** An export that has not answered after this long is abandoned. */
  readonly exportTimeoutMs: number;
}

export class SpanBatcher implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private exporting = false;
  /** Settles when the export in flight (if any) has answered or been given up on. */
  private inFlight: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly limits: SpanBatcherLimits,
  ) {
    if (!(limits.batchMax >= 1 && limits.delayMs >= 0 && limits.exportTimeoutMs > 0)) throw new RangeError('SpanBatcher: bad limits');
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.queue.push(span);
    this.schedule();
  }

  /** Exports everything queued (in batches, one at a time). */
  async forceFlush(): Promise<void> {
    this.cancelScheduled();
    while (this.queue.length > 0 || this.exporting) {
      if (this.exporting) await this.inFlight;
      else await this.exportBatch();
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    this.cancelScheduled();
    await this.exporter.shutdown();
  }

  private schedule(): void {
    if (this.exporting || this.immediate !== null || this.queue.length === 0) return;
    if (this.queue.length >= this.limits.batchMax) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.immediate = null;
        void this.exportBatch();
      });
      this.immediate.unref();
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.exportBatch();
    }, this.limits.delayMs);
    this.timer.unref();
  }

  private cancelScheduled(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private exportBatch(): Promise<void> {
    if (this.exporting || this.queue.length === 0) return this.inFlight;
    let batch: ReadableSpan[];
    if (this.queue.length <= this.limits.batchMax) {
      batch = this.queue;
      this.queue = [];
    } else batch = this.queue.splice(0, this.limits.batchMax);
    this.exporting = true;
    this.inFlight = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.exporting = false;
        resolve();
        this.schedule();
      };
      // Not unref'd: an export in flight (and a flush awaiting it) keeps the process up to this long.
      const deadline = setTimeout(settle, this.limits.exportTimeoutMs);
      try {
        this.exporter.export(batch, settle);
      } catch {
        settle(); // an exporter that throws loses this batch, like one that fails
      }
    });
    return this.inFlight;
  }
}
