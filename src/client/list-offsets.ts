/**
 * ListOffsets: the earliest offset (log start), the latest (high watermark, or the last stable offset
 * under read_committed), or the first offset whose timestamp is at or after a given time, per partition.
 * Sent to each partition's leader; retriable errors are retried, others thrown.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ClientCore } from './client-core.ts';
import { throwIfError } from './kafka-error.ts';

/** 'earliest' (-2), 'latest' (-1), or milliseconds since the epoch. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface PartitionOffset {
  partition: number;
  /** -1 when a timestamp lies after every record. */
  offset: bigint;
  /** The found record's timestamp for a timestamp query, else -1. */
  timestamp: bigint;
}

function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return -2n;
  if (spec === 'latest') return -1n;
  return BigInt(spec.timestamp);
}

export async function listOffsets(core: ClientCore, topic: string, partitions: readonly number[], spec: OffsetSpec, isolationLevel: 0 | 1 = 1): Promise<PartitionOffset[]> {
  const timestamp = specTimestamp(spec);
  // One retry loop around routing and requests, so a moved leader is looked up again.
  return core.retry(async () => {
    const byLeader = await core.partitionsByLeader(topic, partitions);
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, ps]) => {
        const { version, body } = await core.request({ node: leader }, API_KEYS.ListOffsets, () => ({
          replicaId: -1,
          isolationLevel,
          topics: [{ name: topic, partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })) }],
        }));
        return ps.map((partition) => {
          const p = body.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partitionIndex === partition);
          if (!p) throw new StreamBusError('SB_ERR_PROTOCOL', `ListOffsets response lacks partition ${topic}-${partition}`);
          throwIfError(p.errorCode, `list offsets of ${topic}-${partition}`);
          // v0 answered with a list of offsets; v1+ with one offset and its timestamp.
          const offset = version === 0 ? (p.oldStyleOffsets[0] ?? -1n) : p.offset;
          return { partition, offset, timestamp: version === 0 ? -1n : p.timestamp };
        });
      }),
    );
    return answers.flat().sort((a, b) => a.partition - b.partition);
  });
}
