/**
 * Message rate and size from running brokers' /metrics (`streambus capacity --from-metrics`): two
 * scrapes of each broker some seconds apart; the rate is the growth of `streambus_messages_total`
 * (records appended by produce, counted where they were produced), the size the growth of
 * `streambus_topic_bytes_in_total` (every topic; record batches as stored, so batch headers and
 * compression are counted as they cost disk) over it. Pure: the caller scrapes.
 */

export const MESSAGES_METRIC = 'streambus_messages_total';
export const BYTES_IN_METRIC = 'streambus_topic_bytes_in_total';

export interface MetricsTotals {
  readonly messages: number;
  readonly bytesIn: number;
}

/** Sums the two counters in a Prometheus text exposition (every label set). Throws when the messages counter is missing. */
export function readTotals(text: string, source: string): MetricsTotals {
  let messages: number | null = null;
  let bytesIn = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    if (m[1] === MESSAGES_METRIC) messages = (messages ?? 0) + value;
    else if (m[1] === BYTES_IN_METRIC) bytesIn += value;
  }
  if (messages === null) throw new Error(`${source} has no ${MESSAGES_METRIC}: is it a StreamBus broker's /metrics?`);
  return { messages, bytesIn };
}

export interface MeasuredLoad {
  readonly messagesPerSec: number;
  /** Stored bytes per message (its share of its record batch). */
  readonly messageSizeBytes: number;
  readonly sampledSeconds: number;
  readonly messages: number;
}

/** The load between two scrapes of the same brokers, `seconds` apart. Throws when nothing was produced meanwhile. */
export function loadBetween(before: readonly MetricsTotals[], after: readonly MetricsTotals[], seconds: number): MeasuredLoad {
  if (before.length !== after.length || seconds <= 0) throw new Error('two scrapes of the same brokers, some time apart, are needed');
  let messages = 0;
  let bytes = 0;
  for (let i = 0; i < before.length; i++) {
    // A counter that went down means the broker restarted between the scrapes: its growth is unknown.
    if (after[i]!.messages < before[i]!.messages) throw new Error('a broker restarted between the two scrapes; run again');
    messages += after[i]!.messages - before[i]!.messages;
    bytes += Math.max(0, after[i]!.bytesIn - before[i]!.bytesIn);
  }
  if (messages === 0) throw new Error(`no message was produced during the ${seconds} s sample; give --messages-per-sec and --message-size, or sample longer`);
  return { messagesPerSec: messages / seconds, messageSizeBytes: bytes / messages, sampledSeconds: seconds, messages };
}
