/**
 * Tracing through the OpenTelemetry SDK: spans sampled parent-based over a trace-id ratio, batched and
 * exported with OTLP over gRPC. Loaded (dynamic import) only when observability.tracing.enabled, so a
 * broker without tracing never loads the SDK or gRPC.
 *
 * The request path never waits for the exporter: an ended span is queued, and a span that finds the
 * queue full (the collector is slow, down or unreachable) is dropped and counted. Export failures are
 * counted and logged at most once a minute; they never reach a client or stop the broker.
 *
 * The sampling decision is made here, before the SDK is asked for a span: most requests are not
 * sampled, and for them the SDK would still build ids, a context and a non-recording span (about 2 KB
 * of garbage per request). The decision is the SDK sampler's own rule (parent's flag, else trace-id
 * ratio), and the SDK's sampler still sees every span it is asked for.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { LineRateLimiter } from './rate-limited-logger.ts';
import { SpanBatcher } from './span-batcher.ts';
import type { RemoteParent } from './traceparent.ts';
import type { RequestSpan, SpanAttributeValue, Tracing } from './tracing.ts';

/** Spans ended but not yet exported, at most: past it they are dropped (and counted), never buffered. */
export const SPAN_QUEUE_MAX = 4096;
/** Spans per OTLP export request. */
const EXPORT_BATCH_MAX = 512;
/** How often queued spans are sent when the batch is not full. */
const EXPORT_DELAY_MS = 1000;
/** One export (including the exporter's retries) gives up after this long; its spans are dropped. */
const EXPORT_TIMEOUT_MS = 10_000;
/** Links on one span, at most (a produced batch naming many producer spans). */
export const LINKS_MAX = 32;

export interface TracingSettings {
  /** host:port, or a URL with http:// (plaintext) or https:// (TLS). */
  readonly endpoint: string;
  readonly samplingRate: number;
  readonly brokerId: number;
  readonly version: string;
}

/** The exporter's URL for `endpoint`: plaintext unless it says https://. */
export function exporterUrl(endpoint: string): string {
  const trimmed = endpoint.trim();
  return /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
}

/** The span of a request that is not sampled: one shared object, every method does nothing. */
const NOT_RECORDING: RequestSpan = Object.freeze({
  recording: false,
  rename: () => undefined,
  set: () => undefined,
  link: () => undefined,
  fail: () => undefined,
  child: () => NOT_RECORDING,
  end: () => undefined,
});

const uint32 = (): number => (Math.random() * 0x100000000) >>> 0;
/** Scratch for hex formatting: Buffer's hex encoder is several times faster than toString(16) and padding. */
const ID_BYTES = Buffer.allocUnsafe(16);

/** Lowercase hex of the 32-bit words given (`|` may have made them signed). */
function hexId(a: number, b: number, c?: number, d?: number): string {
  ID_BYTES.writeUInt32BE(a >>> 0, 0);
  ID_BYTES.writeUInt32BE(b >>> 0, 4);
  if (c === undefined || d === undefined) return ID_BYTES.toString('hex', 0, 8);
  ID_BYTES.writeUInt32BE(c >>> 0, 8);
  ID_BYTES.writeUInt32BE(d >>> 0, 12);
  return ID_BYTES.toString('hex', 0, 16);
}

/**
 * Root sampling by trace-id ratio, decided before the trace id exists as a string: the id is four
 * random 32-bit words, and the SDK's TraceIdRatioBasedSampler samples an id when the XOR of its four
 * words is below floor(ratio * 0xffffffff) (2^32 at ratio 1). An unsampled root thus costs four random
 * numbers; a sampled one hands its id to the SDK (`RootTraceIds`), whose sampler decides the same.
 */
class RootSampler {
  private readonly upperBound: number;

  constructor(ratio: number) {
    const r = Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
    this.upperBound = r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
  }

  /** A sampled root's trace id, or null when the new root is not sampled. */
  sampledTraceId(): string | null {
    if (this.upperBound === 0) return null;
    const a = uint32();
    const b = uint32();
    const c = uint32();
    const d = uint32();
    if ((a | b | c | d) === 0 || ((a ^ b ^ c ^ d) >>> 0) >= this.upperBound) return null;
    return hexId(a, b, c, d);
  }
}

/** Span ids at random; a root's trace id is the one the root sampler chose (`next`). */
class RootTraceIds implements IdGenerator {
  next: string | null = null;

  generateTraceId(): string {
    const id = this.next ?? hexId(uint32(), uint32(), uint32(), uint32() | 1);
    this.next = null;
    return id;
  }

  generateSpanId(): string {
    return hexId(uint32(), uint32() | 1);
  }
}

class OtelRequestSpan implements RequestSpan {
  readonly recording: boolean;
  constructor(
    private readonly span: Span,
    private readonly tracer: Tracer,
  ) {
    this.recording = span.isRecording();
  }

  rename(name: string): void {
    this.span.updateName(name);
  }

  set(key: string, value: SpanAttributeValue): void {
    this.span.setAttribute(key, value);
  }

  link(target: RemoteParent): void {
    this.span.addLink({ context: { traceId: target.traceId, spanId: target.spanId, traceFlags: target.traceFlags, isRemote: true } });
  }

  fail(errorType: string, message: string): void {
    this.span.setAttribute('error.type', errorType);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  child(name: string): RequestSpan {
    return new OtelRequestSpan(this.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, trace.setSpan(ROOT_CONTEXT, this.span)), this.tracer);
  }

  end(): void {
    this.span.end();
  }
}

interface TracingMetrics {
  exported: Counter;
  dropped: Counter;
  queued: Gauge;
}

function registerMetrics(registry: Registry, queued: () => number): TracingMetrics {
  const dropped = new Counter({
    name: 'streambus_tracing_spans_dropped_total',
    help: 'Sampled spans not delivered to the trace collector, by reason (queue_full: the export queue was full; export_failed: the collector refused or could not be reached)',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of ['queue_full', 'export_failed']) dropped.inc({ reason }, 0);
  return {
    exported: new Counter({ name: 'streambus_tracing_spans_exported_total', help: 'Spans the trace collector accepted', registers: [registry] }),
    dropped,
    queued: new Gauge({
      name: 'streambus_tracing_spans_queued',
      help: `Spans ended and waiting for export (at most ${SPAN_QUEUE_MAX})`,
      registers: [registry],
      collect() {
        this.set(queued());
      },
    }),
  };
}

/**
 * Counts what the batch processor does with spans. It holds the bound itself (`SPAN_QUEUE_MAX`
 * spans handed on and not yet through an export), so every drop is seen and counted: the batcher
 * (span-batcher.ts) has no queue limit of its own.
 */
class CountingPipeline {
  pending = 0;
  private readonly failureLog: LineRateLimiter;

  constructor(
    private readonly metrics: TracingMetrics,
    private readonly log: Logger,
    private readonly endpoint: string,
  ) {
    // Once a minute: a collector that is down fails every export.
    this.failureLog = new LineRateLimiter({ perWindow: 1, windowMs: 60_000 }, () => performance.now());
  }

  exporter(inner: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        inner.export(spans, (result) => {
          this.pending = Math.max(0, this.pending - spans.length);
          if (result.code === ExportResultCode.SUCCESS) this.metrics.exported.inc(spans.length);
          else this.failed(spans.length, result.error);
          done(result);
        });
      },
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
  }

  processor(inner: SpanProcessor): SpanProcessor {
    return {
      onStart: (span, parentContext) => inner.onStart(span, parentContext),
      onEnd: (span) => {
        if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
        if (this.pending >= SPAN_QUEUE_MAX) {
          this.metrics.dropped.inc({ reason: 'queue_full' });
          return;
        }
        this.pending++;
        inner.onEnd(span);
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
    };
  }

  private failed(spans: number, error: Error | undefined): void {
    this.metrics.dropped.inc({ reason: 'export_failed' }, spans);
    const suppressed = this.failureLog.take('export');
    if (suppressed === null) return;
    this.log.warn({ endpoint: this.endpoint, spans, err: error?.message ?? 'unknown error', ...(suppressed > 0 ? { suppressed } : {}) }, 'trace export failed; spans dropped (the broker keeps serving)');
  }
}

export class OtelTracing implements Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly roots: RootSampler;
  private readonly ids = new RootTraceIds();
  private stopped: Promise<void> | null = null;

  /** `exporter` replaces the OTLP gRPC exporter (tests). */
  constructor(settings: TracingSettings, registry: Registry, log: Logger, exporter?: SpanExporter) {
    const pipeline: CountingPipeline = new CountingPipeline(
      registerMetrics(registry, (): number => pipeline.pending),
      log,
      settings.endpoint,
    );
    const otlp = exporter ?? new OTLPTraceExporter({ url: exporterUrl(settings.endpoint), timeoutMillis: EXPORT_TIMEOUT_MS });
    const batches = new SpanBatcher(pipeline.exporter(otlp), { batchMax: EXPORT_BATCH_MAX, delayMs: EXPORT_DELAY_MS, exportTimeoutMs: EXPORT_TIMEOUT_MS });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: 'streambus',
        [ATTR_SERVICE_VERSION]: settings.version,
        'service.instance.id': `broker-${settings.brokerId}`,
        'streambus.broker.id': settings.brokerId,
      }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplingRate) }),
      idGenerator: this.ids,
      spanProcessors: [pipeline.processor(batches)],
      spanLimits: { linkCountLimit: LINKS_MAX },
    });
    this.tracer = this.provider.getTracer('streambus', settings.version);
    this.roots = new RootSampler(settings.samplingRate);
    log.info({ endpoint: exporterUrl(settings.endpoint), samplingRate: settings.samplingRate }, 'tracing on: OTLP/gRPC export');
  }

  startRequest(name: string, parent: RemoteParent | null): RequestSpan {
    if (parent === null) {
      const traceId = this.roots.sampledTraceId();
      if (traceId === null) return NOT_RECORDING;
      this.ids.next = traceId;
      return new OtelRequestSpan(this.tracer.startSpan(name, { kind: SpanKind.SERVER }, ROOT_CONTEXT), this.tracer);
    }
    // Parent-based: a remote parent's sampled flag decides.
    if ((parent.traceFlags & TraceFlags.SAMPLED) === 0) return NOT_RECORDING;
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.traceFlags, isRemote: true });
    return new OtelRequestSpan(this.tracer.startSpan(name, { kind: SpanKind.SERVER }, context), this.tracer);
  }

  shutdown(timeoutMs: number): Promise<void> {
    this.stopped ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([this.provider.shutdown().catch(() => undefined), deadline]);
      clearTimeout(timer);
    })();
    return this.stopped;
  }
}
