/**
 * Metrics of the Kafka request path, with the deployment guide's names:
 *   streambus_messages_total                    records appended (all topics)
 *   streambus_message_latency_seconds           summary (0.5, 0.95, 0.99): produce received -> durable
 *   streambus_throughput_messages_per_second    records appended per second over the last metrics.interval
 *                                               (whole seconds, 1 s to 1 h; 10 s when not given)
 * plus per-API request counts and latency histograms, bytes in and out per topic, and consumer lag.
 * Hot-path calls are plain increments on pre-created label children.
 */
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

/** The throughput gauge's window when none is given, and its bounds. */
const WINDOW_SECONDS_DEFAULT = 10;
const WINDOW_SECONDS_MAX = 3_600;
/**
 * At most about this many latency observations per second reach the summary; beyond it produce
 * requests are sampled evenly. A summary observation costs tens of microseconds (t-digest inserts in
 * every age bucket), which at tens of thousands of requests per second would be a large share of the
 * broker's CPU; a few hundred samples a second estimate the quantiles just as well.
 */
const LATENCY_SAMPLES_PER_SECOND = 256;

export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** The SASL mechanisms a broker may offer (the authentication failures counter starts at 0 for each). */
const SASL_MECHANISMS = ['OAUTHBEARER', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const;

export class KafkaMetrics {
  private readonly messages: Counter;
  private readonly latency: Summary;
  private readonly requests: Counter;
  private readonly requestSeconds: Histogram;
  private readonly bytesIn: Counter;
  private readonly bytesOut: Counter;
  private readonly authFailures: Counter;
  private readonly authzDenied: Counter;
  private readonly throttled: Counter;
  private readonly throttleSeconds: Counter;
  /** Records appended in each second of the throughput window, a ring indexed by second. */
  private readonly window: Float64Array;
  private readonly windowSeconds: number;
  private windowSecond = 0;
  private latencyStride = 1;
  private latencySeen = 0;
  private latencySecond = 0;
  private latencyThisSecond = 0;
  private readonly requestChildren = new Map<string, { ok: Counter.Internal; failed: Counter.Internal; seconds: Histogram.Internal<string> }>();
  private readonly topicChildren = new Map<string, { bytesIn: Counter.Internal; bytesOut: Counter.Internal }>();

  /** `windowMs`: the throughput gauge's averaging window (metrics.interval), rounded to whole seconds. */
  constructor(registry: Registry, now: () => number, lagSource: () => LagSample[], windowMs = WINDOW_SECONDS_DEFAULT * 1000) {
    this.windowSeconds = Math.min(WINDOW_SECONDS_MAX, Math.max(1, Math.round(windowMs / 1000)));
    this.window = new Float64Array(this.windowSeconds);
    const windowSeconds = this.windowSeconds;
    this.messages = new Counter({ name: 'streambus_messages_total', help: 'Records appended to partition logs', registers: [registry] });
    this.latency = new Summary({
      name: 'streambus_message_latency_seconds',
      help: 'Time from a produce request being received to its records being durable, in seconds',
      percentiles: [0.5, 0.95, 0.99],
      maxAgeSeconds: 60,
      ageBuckets: 6,
      registers: [registry],
    });
    const self = this;
    new Gauge({
      name: 'streambus_throughput_messages_per_second',
      help: `Records appended per second, averaged over the last ${windowSeconds} s (metrics.interval)`,
      registers: [registry],
      collect() {
        self.rotate(now());
        let total = 0;
        for (const v of self.window) total += v;
        this.set(total / windowSeconds);
      },
    });
    this.requests = new Counter({ name: 'streambus_requests_total', help: 'Kafka requests handled', labelNames: ['api', 'error'], registers: [registry] });
    this.requestSeconds = new Histogram({
      name: 'streambus_request_duration_seconds',
      help: 'Kafka request handling time in seconds, by API',
      labelNames: ['api'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    });
    this.bytesIn = new Counter({ name: 'streambus_topic_bytes_in_total', help: 'Record bytes produced, by topic', labelNames: ['topic'], registers: [registry] });
    this.bytesOut = new Counter({ name: 'streambus_topic_bytes_out_total', help: 'Record bytes fetched, by topic', labelNames: ['topic'], registers: [registry] });
    this.authFailures = new Counter({
      name: 'streambus_authentication_failures_total',
      help: 'Failed SASL authentications, by mechanism (a rising rate is password guessing or a misconfigured client)',
      labelNames: ['mechanism'],
      registers: [registry],
    });
    // Every mechanism starts at 0, so rate() over it works (and alerts can name it) before a first failure.
    for (const mechanism of SASL_MECHANISMS) this.authFailures.inc({ mechanism }, 0);
    this.throttled = new Counter({ name: 'streambus_client_quota_throttled_total', help: 'Responses throttled for a client quota, by quota', labelNames: ['quota'], registers: [registry] });
    this.throttleSeconds = new Counter({ name: 'streambus_client_quota_throttle_seconds_total', help: 'Time connections were throttled for a client quota, by quota', labelNames: ['quota'], registers: [registry] });
    this.authzDenied = new Counter({
      name: 'streambus_authorization_denied_total',
      help: 'Requests (or parts of requests) refused by the ACLs, by operation and resource type',
      labelNames: ['operation', 'resource_type'],
      registers: [registry],
    });
    new Gauge({
      name: 'streambus_consumer_group_lag',
      help: 'High watermark minus committed offset, by group and partition',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of lagSource()) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag);
      },
    });
    this.now = now;
  }

  private readonly now: () => number;

  authenticationFailed(mechanism: string): void {
    this.authFailures.inc({ mechanism });
  }

  /** A response throttled `ms` for client quota `quota`. */
  quotaThrottled(quota: string, ms: number): void {
    this.throttled.inc({ quota });
    this.throttleSeconds.inc({ quota }, ms / 1000);
  }

  authorizationDenied(operation: string, resourceType: string): void {
    this.authzDenied.inc({ operation, resource_type: resourceType });
  }

  request(api: string, seconds: number, failed: boolean): void {
    // Label children are looked up once per API: resolving labels on every call hashes them each time.
    let c = this.requestChildren.get(api);
    if (!c) {
      c = { ok: this.requests.labels(api, 'false'), failed: this.requests.labels(api, 'true'), seconds: this.requestSeconds.labels(api) };
      this.requestChildren.set(api, c);
    }
    (failed ? c.failed : c.ok).inc();
    c.seconds.observe(seconds);
  }

  /** Records appended: `latencySeconds` from request received to durable. */
  appended(topic: string, records: number, bytes: number, latencySeconds: number): void {
    this.messages.inc(records);
    this.topic(topic).bytesIn.inc(bytes);
    const nowMs = this.now();
    this.sampleLatency(nowMs, latencySeconds);
    this.rotate(nowMs);
    this.window[this.windowSecond % this.windowSeconds]! += records;
  }

  fetched(topic: string, bytes: number): void {
    if (bytes > 0) this.topic(topic).bytesOut.inc(bytes);
  }

  private topic(name: string): { bytesIn: Counter.Internal; bytesOut: Counter.Internal } {
    let c = this.topicChildren.get(name);
    if (!c) {
      c = { bytesIn: this.bytesIn.labels(name), bytesOut: this.bytesOut.labels(name) };
      this.topicChildren.set(name, c);
    }
    return c;
  }

  /** Observes every `latencyStride`-th latency; the stride follows the previous second's rate. */
  private sampleLatency(nowMs: number, seconds: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.latencySecond) {
      this.latencyStride = Math.max(1, Math.ceil(this.latencyThisSecond / LATENCY_SAMPLES_PER_SECOND));
      this.latencySecond = second;
      this.latencyThisSecond = 0;
    }
    this.latencyThisSecond++;
    if (this.latencySeen++ % this.latencyStride === 0) this.latency.observe(seconds);
  }

  /** Moves the per-second window forward to `nowMs`, clearing the seconds that passed. */
  private rotate(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.windowSecond) return;
    const steps = Math.min(this.windowSeconds, Math.max(0, second - this.windowSecond));
    for (let i = 1; i <= steps; i++) this.window[(this.windowSecond + i) % this.windowSeconds] = 0;
    this.windowSecond = second;
  }
}
