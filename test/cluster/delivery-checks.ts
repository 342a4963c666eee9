// What the fault tests check about a topic after producers wrote to it through failures: read every
// partition from its leader, then compare what is stored with what each producer sent and had
// acknowledged. Every value is `<producer>:<sequence>`, so a stored record names who sent it and when.
import { RawKafka, fetchAll } from '../helpers/raw-kafka.ts';
import { metadataFrom, metadataUntil } from './cluster-requests.ts';

export interface StoredRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly value: string;
}

/** One producer's side of the story: sequences 0..sent-1 were sent, `acked` of them acknowledged. */
export interface ProducerLedger {
  readonly name: string;
  /** An idempotent producer must leave no duplicate, acknowledged or not. */
  readonly idempotent: boolean;
  sent: number;
  readonly acked: Set<number>;
}

export function ledger(name: string, idempotent: boolean): ProducerLedger {
  return { name, idempotent, sent: 0, acked: new Set() };
}

export function valueOf(producer: string, sequence: number): string {
  return `${producer}:${sequence}`;
}

/**
 * Every record of `topic` (partitions 0..partitions-1), read with raw Fetch from the leader a broker
 * at `port` names; retried for a while if leadership moves under the read.
 */
export async function readTopic(port: number, topic: string, partitions: number, ms = 20_000): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let p = 0; p < partitions; p++) {
    const deadline = Date.now() + ms;
    for (let attempt = 1; ; attempt++) {
      try {
        const md = await metadataUntil(port, [topic], (m) => m.topics[0]?.partitions.find((x) => x.partitionIndex === p)?.errorCode === 0, `${topic}/${p} led`, ms);
        const leaderId = md.topics[0]!.partitions.find((x) => x.partitionIndex === p)!.leaderId;
        const leaderPort = md.brokers.find((b) => b.nodeId === leaderId)!.port;
        const conn = await RawKafka.connect(leaderPort);
        try {
          const { records } = await fetchAll(conn, topic, p);
          for (const r of records) out.push({ partition: p, offset: r.offset, value: r.value ?? '' });
        } finally {
          conn.socket.destroy();
        }
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`reading ${topic}/${p} (attempt ${attempt}): ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
  return out;
}

export interface DeliveryReport {
  /** Broken rules, each one sentence; empty when the topic is what the producers were promised. */
  readonly problems: string[];
  /** Extra copies left by producers that are not idempotent (allowed: at-least-once). */
  readonly duplicates: Map<string, number>;
}

/**
 * The rules: offsets strictly increase within a partition; every acknowledged message is stored; an
 * idempotent producer's messages are stored at most once; per producer and partition, the first copies
 * of its acknowledged messages are in send order; nothing is stored that nobody sent.
 */
export function checkDelivery(stored: readonly StoredRecord[], producers: readonly ProducerLedger[]): DeliveryReport {
  const problems: string[] = [];
  const duplicates = new Map<string, number>();
  const byName = new Map(producers.map((p) => [p.name, p]));
  const lastOffset = new Map<number, bigint>();
  const copies = new Map<string, number>();
  /** Per producer and partition, the last acknowledged sequence seen (first copies only). */
  const lastAcked = new Map<string, number>();
  for (const r of stored) {
    const previous = lastOffset.get(r.partition);
    if (previous !== undefined && r.offset <= previous) problems.push(`partition ${r.partition}: offset ${r.offset} after ${previous}`);
    lastOffset.set(r.partition, r.offset);
    const [name, text] = r.value.split(':');
    const producer = byName.get(name ?? '');
    const sequence = Number(text);
    if (producer === undefined || !Number.isInteger(sequence) || sequence < 0 || sequence >= producer.sent) {
      problems.push(`partition ${r.partition} offset ${r.offset}: ${JSON.stringify(r.value)} was never sent`);
      continue;
    }
    const count = (copies.get(r.value) ?? 0) + 1;
    copies.set(r.value, count);
    if (count > 1) {
      if (producer.idempotent) problems.push(`${r.value} stored again at partition ${r.partition} offset ${r.offset} by an idempotent producer`);
      else duplicates.set(producer.name, (duplicates.get(producer.name) ?? 0) + 1);
      continue;
    }
    if (!producer.acked.has(sequence)) continue;
    const key = `${producer.name}/${r.partition}`;
    const before = lastAcked.get(key) ?? -1;
    if (sequence < before) problems.push(`${producer.name}: acknowledged ${sequence} stored after ${before} in partition ${r.partition}`);
    lastAcked.set(key, Math.max(before, sequence));
  }
  for (const producer of producers) {
    const missing = [...producer.acked].filter((s) => !copies.has(valueOf(producer.name, s))).sort((a, b) => a - b);
    if (missing.length > 0) problems.push(`${producer.name}: ${missing.length} acknowledged messages missing, first ${missing.slice(0, 10).join(', ')}`);
  }
  return { problems, duplicates };
}

/**
 * Size of one partition's log on each broker, as its /metrics reports it (-1 where it reports none).
 * Replicas that hold the same log hold the same bytes, so differing sizes mean diverged or lagging logs.
 */
export async function logSizes(httpPorts: readonly number[], topic: string, partition: number): Promise<number[]> {
  return Promise.all(
    httpPorts.map(async (port) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('streambus_partition_log_size_bytes{') && l.includes(`topic="${topic}"`) && l.includes(`partition="${partition}"`));
      return line === undefined ? -1 : Number(line.split(' ').pop());
    }),
  );
}

/** Polls logSizes until every broker reports the same positive size (at most `ms`); the last sizes seen. */
export async function converge(httpPorts: readonly number[], topic: string, partition: number, ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const sizes = await logSizes(httpPorts, topic, partition);
    if ((sizes.every((s) => s > 0 && s === sizes[0])) || Date.now() > deadline) return sizes;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether every broker's Metadata names the same leader at the same epoch, with `replicas` in sync. */
export async function metadataAgrees(kafkaPorts: readonly number[], topic: string, partition: number, replicas: number): Promise<boolean> {
  const views = await Promise.all(kafkaPorts.map((port) => metadataFrom(port, [topic])));
  const parts = views.map((v) => v.topics[0]?.partitions.find((p) => p.partitionIndex === partition));
  const first = parts[0];
  return parts.every((p) => p !== undefined && first !== undefined && p.errorCode === 0 && p.leaderId > 0 && p.leaderId === first.leaderId && p.leaderEpoch === first.leaderEpoch && p.isrNodes.length === replicas);
}
