/**
 * What the request path sees of tracing: a small interface, so that nothing on that path imports the
 * OpenTelemetry SDK. The SDK-backed implementation (otel-tracing.ts) is loaded by the composition root
 * only when observability.tracing.enabled; with tracing off the broker holds null instead, and the
 * request path pays one null check (docs/tracing.md).
 */
import type { RemoteParent } from './traceparent.ts';

export type SpanAttributeValue = string | number | boolean;

/** One span of a Kafka request. Methods of a span that is not recording (not sampled) do nothing. */
export interface RequestSpan {
  /** False when the request was not sampled: callers skip the work that would only feed the span. */
  readonly recording: boolean;
  rename(name: string): void;
  set(key: string, value: SpanAttributeValue): void;
  /** A link to another trace's span (a produced batch naming several producer spans). */
  link(target: RemoteParent): void;
  /** Status ERROR with `errorType` (a Kafka error name) as error.type and `message` as the status message. */
  fail(errorType: string, message: string): void;
  /** A started INTERNAL child span (one partition of a multi-partition Produce). */
  child(name: string): RequestSpan;
  end(): void;
}

export interface Tracing {
  /**
   * Starts a SERVER span for one request: a child of `parent` (from a record's traceparent header) or
   * the root of a new trace. The sampler decides whether it records: the parent's sampled flag when
   * there is a parent, else observability.tracing.samplingRate.
   */
  startRequest(name: string, parent: RemoteParent | null): RequestSpan;
  /** Exports the spans still queued, waiting at most `timeoutMs`, and stops exporting. Never rejects. */
  shutdown(timeoutMs: number): Promise<void>;
}
