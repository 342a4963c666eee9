/**
 * Fetch (1), versions 0-16 (FetchRequest.json): the read path.
 * Stored batches go back verbatim, as views into segment memory, handed to the encoder as a list of
 * buffers (no concatenation; the connection writes them with one writev). At least one whole batch is
 * returned even when larger than max_bytes (KIP-74), or consumers would stall. When fewer than
 * min_bytes are available the request waits, up to max_wait_ms, for new data on any of its partitions.
 * Fetch sessions (KIP-227) are not kept: every response has session_id 0, which clients accept as
 * "no session" (kafkajs and librdkafka send 0/-1, platformatic 0/0).
 * From v13 topics are named by id, in the request and the response; an unknown id is UNKNOWN_TOPIC_ID.
 * Versions 0-3 read message format v0/v1, which this broker does not convert to: every partition is
 * answered UNSUPPORTED_VERSION (docs/compatibility.md says why).
 * isolation_level (v4+, KIP-98): 1, read_committed, reads only below the last stable offset, waits for
 * it to move, and lists the aborted transactions overlapping what it returns, so the consumer drops
 * their records; 0, read_uncommitted, reads to the high watermark. Every response carries the real
 * last stable offset.
 */
import { ZERO_UUID } from '../../protocol/kafka/codec-support.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { leaderPartition } from '../partition-access.ts';
import type { BrokerContext } from '../context.ts';
import type { Partition } from '../../replication/partition.ts';
import { kafkaErrorForStorage } from '../storage-errors.ts';
import { allowed, Op, Resource } from '../access.ts';
import { quotaClient } from '../quota-throttle.ts';
import { chargeTenantBandwidth, tenantBandwidthOwed } from '../tenant-access.ts';

interface Slot {
  topic: string;
  topicId: string;
  partitionIndex: number;
  partition: Partition | undefined;
  fetchOffset: number;
  maxBytes: number;
  errorCode: number;
  buffers: Buffer[];
  bytes: number;
  /** One past the last offset read so far (the fetch offset when nothing was read). */
  nextOffset: number;
}

/** The first Fetch version whose records are record batches v2 (message format 2). */
const FIRST_BATCH_V2_VERSION = 4;
/** The first Fetch version that names topics by id. */
const FIRST_TOPIC_ID_VERSION = 13;

/** isolation_level 1 (KIP-98); 0 below v4 (the generated decoder's default). */
const READ_COMMITTED = 1;

/** Upper bound on how long one Fetch may wait, whatever the client asks. */
const MAX_WAIT_CAP_MS = 60_000;

export const fetch: Handler<1> = async (ctx, request, info) => {
  const slots: Slot[] = [];
  const byId = info.apiVersion >= FIRST_TOPIC_ID_VERSION;
  for (const t of request.topics) {
    const topic = byId ? ctx.metadata.state.topicById(t.topicId) : ctx.metadata.state.topic(t.topic);
    // By name: authorization before existence (as Kafka). By id: an unknown id is said first.
    const name = topic?.name ?? t.topic;
    const readable = (byId && !topic) || allowed(ctx, info, Op.READ, Resource.TOPIC, name);
    for (const p of t.partitions) {
      const slot: Slot = {
        topic: topic?.name ?? t.topic,
        topicId: byId ? t.topicId : ZERO_UUID,
        partitionIndex: p.partition,
        partition: undefined,
        fetchOffset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        errorCode: 0,
        buffers: [],
        bytes: 0,
        nextOffset: Number(p.fetchOffset),
      };
      if (!readable) slot.errorCode = KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;
      else if (info.apiVersion < FIRST_BATCH_V2_VERSION) slot.errorCode = KafkaErrorCode.UNSUPPORTED_VERSION;
      else if (!topic) slot.errorCode = byId ? KafkaErrorCode.UNKNOWN_TOPIC_ID : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.partition < 0 || p.partition >= topic.partitions) slot.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else {
        const access = leaderPartition(ctx, topic, p.partition, info.apiVersion >= 9 ? p.currentLeaderEpoch : -1);
        slot.partition = access.partition;
        slot.errorCode = access.errorCode;
      }
      slots.push(slot);
    }
  }

  // A client over its consumer_byte_rate quota gets no records, at once, with the time it owes
  // (Kafka's answer: data it would read past the quota is not sent at all).
  // A tenant over its bandwidth (multi-tenancy) likewise.
  const who = ctx.clientQuotas.active ? quotaClient(info) : null;
  let throttleTimeMs = who === null ? 0 : ctx.clientQuotas.owed('consumer_byte_rate', who.user, who.clientId, ctx.now());
  if (who !== null && throttleTimeMs > 0) ctx.metrics.quotaThrottled('consumer_byte_rate', throttleTimeMs);
  throttleTimeMs = Math.max(throttleTimeMs, tenantBandwidthOwed(ctx, info.connection));
  const committedOnly = request.isolationLevel === READ_COMMITTED;
  if (throttleTimeMs === 0) {
    let total = await readAll(ctx, slots, request.maxBytes, committedOnly);
    const deadline = performance.now() + Math.min(Math.max(0, request.maxWaitMs), MAX_WAIT_CAP_MS);
    const minBytes = Math.max(1, request.minBytes);
    // Long poll: wait for data until min_bytes are available or max_wait_ms has passed. An error on
    // any partition answers at once, so the client can act on it.
    while (total < minBytes && !slots.some((s) => s.errorCode !== 0 || s.partition?.closing)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await waitForData(slots, left, committedOnly);
      total = await readAll(ctx, slots, request.maxBytes, committedOnly);
    }
    if (total > 0 && who !== null) {
      throttleTimeMs = ctx.clientQuotas.record({ key: 'consumer_byte_rate', amount: total }, who.user, who.clientId, ctx.now());
      if (throttleTimeMs > 0) ctx.metrics.quotaThrottled('consumer_byte_rate', throttleTimeMs);
    }
    if (total > 0) throttleTimeMs = Math.max(throttleTimeMs, chargeTenantBandwidth(ctx, info.connection, 'out', total));
  }

  // Grouped as asked: by id from v13 (two unknown ids must stay apart), by name before.
  const byTopic = new Map<string, Slot[]>();
  for (const s of slots) {
    const key = byId ? s.topicId : s.topic;
    const list = byTopic.get(key) ?? [];
    list.push(s);
    byTopic.set(key, list);
  }
  return {
    throttleTimeMs,
    errorCode: 0,
    sessionId: 0,
    responses: [...byTopic.values()].map((list) => ({
      topic: list[0]!.topic,
      topicId: list[0]!.topicId,
      partitions: list.map((s) => {
        const p = s.partition;
        const hw = p ? BigInt(p.highWatermark) : -1n;
        if (s.bytes > 0) ctx.metrics.fetched(s.topic, s.bytes);
        return {
          partitionIndex: s.partitionIndex,
          errorCode: s.errorCode,
          highWatermark: hw,
          // Never -1 on a partition that answers: librdkafka needs it.
          lastStableOffset: p ? BigInt(p.lastStableOffset) : -1n,
          logStartOffset: p ? BigInt(p.logStartOffset) : -1n,
          abortedTransactions: info.apiVersion < 4 ? null : committedOnly && p && s.bytes > 0 ? abortedIn(p, s.fetchOffset, s.nextOffset) : [],
          preferredReadReplica: -1,
          records: s.buffers,
        };
      }),
    })),
  };
};

/** The aborted transactions overlapping [fromOffset, toOffset), as Fetch lists them. */
function abortedIn(partition: Partition, fromOffset: number, toOffset: number): { producerId: bigint; firstOffset: bigint }[] {
  return partition.abortedTransactions(fromOffset, toOffset).map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }));
}

/** Reads every healthy slot within the request's byte budget; returns the bytes read. */
async function readAll(ctx: BrokerContext, slots: Slot[], requestMaxBytes: number, committedOnly: boolean): Promise<number> {
  let total = 0;
  for (const s of slots) {
    s.buffers = [];
    s.bytes = 0;
    const p = s.partition;
    if (!p || s.errorCode !== 0) continue;
    if (s.fetchOffset < p.logStartOffset || s.fetchOffset > p.highWatermark) {
      s.errorCode = KafkaErrorCode.OFFSET_OUT_OF_RANGE;
      continue;
    }
    const budget = Math.min(s.maxBytes, requestMaxBytes - total);
    // KIP-74: the first partition with data returns at least one batch even past the budget.
    if (budget <= 0 && total > 0) continue;
    try {
      const read = await p.read(s.fetchOffset, Math.max(1, budget), committedOnly);
      s.buffers = read.buffers;
      s.bytes = read.sizeBytes;
      s.nextOffset = read.buffers.length > 0 ? read.nextOffset : s.fetchOffset;
      total += read.sizeBytes;
    } catch (err) {
      const mapped = kafkaErrorForStorage(err);
      ctx.log.warn({ err, topic: s.topic, partition: s.partitionIndex }, 'fetch read failed');
      s.errorCode = mapped.errorCode;
    }
  }
  return total;
}

/** Resolves when any slot's partition gets data (committed data) past what was read so far, or after `ms`. */
function waitForData(slots: Slot[], ms: number, committedOnly: boolean): Promise<void> {
  return new Promise((resolve) => {
    const cancels: (() => void)[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const c of cancels) c();
      resolve();
    };
    const timer = setTimeout(finish, ms);
    for (const s of slots) if (s.partition) cancels.push(s.partition.onData(s.nextOffset, finish, committedOnly));
  });
}
