/**
 * Produce (0), versions 0-11 (ProduceRequest.json): the write path.
 *   validate the batch header (produce-validation.ts) -> idempotence check and append (Partition)
 *   -> wait until written (syncInterval > 0) or fdatasync'd (syncInterval 0) -> answer.
 * Batches are appended exactly as received (a view into the request frame), with base offset and
 * leader epoch stamped in place; LogAppendTime topics also get maxTimestamp and a new CRC (KIP-32).
 * acks=0 gets no response at all; acks must be -1, 0 or 1 (else INVALID_REQUIRED_ACKS).
 * Versions 0-2 carry message format v0/v1, which this broker does not store or convert: every
 * partition is answered UNSUPPORTED_VERSION (docs/compatibility.md says why).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { setLogAppendTime } from '../../protocol/kafka/record-batch/header.ts';
import type { Handler } from '../handler.ts';
import type { BrokerContext } from '../context.ts';
import { validateProducedBatch } from '../produce-validation.ts';
import { kafkaErrorForStorage } from '../storage-errors.ts';
import { leaderPartition } from '../partition-access.ts';
import { allowed, Op, Resource } from '../access.ts';

interface PartitionAnswer {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  errorMessage: string | null;
}

const refusal = (index: number, errorCode: number, errorMessage: string | null = null): PartitionAnswer => ({
  index,
  errorCode,
  baseOffset: -1n,
  logAppendTimeMs: -1n,
  logStartOffset: -1n,
  errorMessage,
});

/** The first Produce version that carries record batches v2 (message format 2). */
const FIRST_BATCH_V2_VERSION = 3;

export const produce: Handler<0> = async (ctx, request, info) => {
  const acks = request.acks;
  const validAcks = acks === -1 || acks === 0 || acks === 1;
  if (info.apiVersion < FIRST_BATCH_V2_VERSION) return oldMessageFormat(ctx, request.topicData, acks, info.apiVersion);
  const responses = await Promise.all(
    request.topicData.map(async (topicData) => {
      // As Kafka: authorization before existence, so a refused client learns nothing about the topic.
      const writable = allowed(ctx, info, Op.WRITE, Resource.TOPIC, topicData.name);
      return {
        name: topicData.name,
        partitionResponses: await Promise.all(
          topicData.partitionData.map((p) =>
            !writable
              ? refusal(p.index, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED)
              : validAcks
                ? appendPartition(ctx, topicData.name, p.index, p.records, acks, info.apiVersion, info.receivedAt)
                : refusal(p.index, KafkaErrorCode.INVALID_REQUIRED_ACKS),
          ),
        ),
      };
    }),
  );
  if (acks === 0) return null;
  return { responses, throttleTimeMs: 0 };
};

function oldMessageFormat(ctx: BrokerContext, topicData: readonly { name: string; partitionData: readonly { index: number }[] }[], acks: number, apiVersion: number) {
  ctx.log.debug({ apiVersion }, 'produce with message format v0/v1 refused');
  if (acks === 0) return null;
  const message = `Produce v${apiVersion} (message format v0/v1) is not supported; use Produce v3 or later`;
  return {
    responses: topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => refusal(p.index, KafkaErrorCode.UNSUPPORTED_VERSION, message)) })),
    throttleTimeMs: 0,
  };
}

async function appendPartition(
  ctx: BrokerContext,
  topicName: string,
  index: number,
  records: Buffer | null,
  acks: number,
  apiVersion: number,
  receivedAt: number,
): Promise<PartitionAnswer> {
  const topic = ctx.metadata.state.topic(topicName);
  if (!topic || index < 0 || index >= topic.partitions) return refusal(index, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const { partition, errorCode, message } = { message: null, ...leaderPartition(ctx, topic, index) };
  if (!partition) return refusal(index, errorCode, message);
  const configs = ctx.topics.effectiveConfigs(topic);
  const batch = validateProducedBatch(records, apiVersion, Number(configs['max.message.bytes']));
  if (batch.errorCode !== 0) {
    ctx.log.debug({ topic: topicName, partition: index, error: batch.errorMessage }, 'produce refused');
    return refusal(index, batch.errorCode, batch.errorMessage);
  }
  // Kafka refuses acks=-1 before appending when fewer replicas than min.insync.replicas are in sync.
  // The leader always counts itself, so the default of 1 never needs the (per-request) count.
  const minInSync = Number(configs['min.insync.replicas']);
  const inSync = acks === -1 && minInSync > 1 && partition.replicated ? partition.inSyncReplicaCount() : minInSync;
  if (inSync < minInSync) {
    const message = `${inSync} in-sync replicas of ${topicName}-${index}, min.insync.replicas is ${minInSync}`;
    ctx.log.debug({ topic: topicName, partition: index, message }, 'produce refused');
    return refusal(index, KafkaErrorCode.NOT_ENOUGH_REPLICAS, message);
  }
  const bytes = records!;
  const now = ctx.now();
  let logAppendTimeMs = -1n;
  if (configs['message.timestamp.type'] === 'LogAppendTime') {
    logAppendTimeMs = BigInt(now);
    setLogAppendTime(bytes, 0, logAppendTimeMs);
  }
  try {
    const result = await partition.append(bytes, batch.producerId >= 0n ? batch : null, now);
    switch (result.kind) {
      case 'invalid-epoch':
        return refusal(index, KafkaErrorCode.INVALID_PRODUCER_EPOCH);
      case 'out-of-order':
        return refusal(index, KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      case 'duplicate':
        // Kafka answers a retried batch with success and the offset it got the first time, once
        // that first write is visible (committed): it may still be pending when the client retried
        // after a timeout, and acknowledging it then would lose it if it never commits.
        if (acks === 0) result.visible.catch(() => undefined);
        else await result.visible;
        return { index, errorCode: 0, baseOffset: BigInt(result.baseOffset), logAppendTimeMs, logStartOffset: BigInt(partition.logStartOffset), errorMessage: null };
      case 'appended':
        break;
    }
    // On a single broker, acknowledge once the records are visible to consumers: written to the
    // operating system (they survive the broker process dying) or, with storage.syncInterval 0,
    // fdatasync'd. On a replicated partition: acks=-1 once committed (durable on a majority of its
    // replicas; a consumer fetching right after sees them), acks=1 once written here (Kafka's leader
    // ack; docs/replication.md).
    const visible = acks === 1 ? result.written : result.visible;
    if (acks === 0) visible.catch((err: unknown) => ctx.log.error({ err, topic: topicName, partition: index }, 'write failed'));
    else await visible;
    ctx.metrics.appended(topicName, batch.recordCount, bytes.length, (performance.now() - receivedAt) / 1000);
    return { index, errorCode: 0, baseOffset: BigInt(result.baseOffset), logAppendTimeMs, logStartOffset: BigInt(partition.logStartOffset), errorMessage: null };
  } catch (err) {
    const mapped = kafkaErrorForStorage(err);
    ctx.log.warn({ err, topic: topicName, partition: index }, 'append failed');
    return refusal(index, mapped.errorCode, mapped.message);
  }
}
