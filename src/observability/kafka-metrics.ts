/**
 * Metrics of the Kafka request path, with the deployment guide's names:
 *   streambus_messages_total                    records appended (all topics)
 *   streambus_message_latency_seconds           summary (0.5, 0.95, 0.99): produce received -> durable
 *   streambus_throughput_messages_per_second    records appended per second over the last 10 s
 * plus per-API request counts and latency histograms, bytes in and out per topic, and consumer lag.
 * Hot-path calls are plain increments on pre-created label children.
 */
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

const WINDOW_SECONDS = 10;

export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

export class KafkaMetrics {
  private readonly messages: Counter;
  private readonly latency: Summary;
  private readonly requests: Counter;
  private readonly requestSeconds: Histogram;
  private readonly bytesIn: Counter;
  private readonly bytesOut: Counter;
  private readonly window = new Float64Array(WINDOW_SECONDS);
  private windowSecond = 0;

  constructor(registry: Registry, now: () => number, lagSource: () => LagSample[]) {
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
      help: `Records appended per second, averaged over the last ${WINDOW_SECONDS} s`,
      registers: [registry],
      collect() {
        self.rotate(now());
        let total = 0;
        for (const v of self.window) total += v;
        this.set(total / WINDOW_SECONDS);
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

  request(api: string, seconds: number, failed: boolean): void {
    this.requests.inc({ api, error: failed ? 'true' : 'false' });
    this.requestSeconds.observe({ api }, seconds);
  }

  /** Records appended: `latencySeconds` from request received to durable. */
  appended(topic: string, records: number, bytes: number, latencySeconds: number): void {
    this.messages.inc(records);
    this.bytesIn.inc({ topic }, bytes);
    this.latency.observe(latencySeconds);
    this.rotate(this.now());
    this.window[this.windowSecond % WINDOW_SECONDS]! += records;
  }

  fetched(topic: string, bytes: number): void {
    if (bytes > 0) this.bytesOut.inc({ topic }, bytes);
  }

  /** Moves the per-second window forward to `nowMs`, clearing the seconds that passed. */
  private rotate(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.windowSecond) return;
    const steps = Math.min(WINDOW_SECONDS, Math.max(0, second - this.windowSecond));
    for (let i = 1; i <= steps; i++) this.window[(this.windowSecond + i) % WINDOW_SECONDS] = 0;
    this.windowSecond = second;
  }
}
