/**
 * DeleteRecords: moves the log start of partitions up to an offset ('high-watermark' for everything
 * written), per partition through its leader. Retriable errors are retried, others thrown; the
 * answer is each partition's new log start (low watermark).
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ClientCore } from './client-core.ts';
import { throwIfError } from './kafka-error.ts';

export interface RecordsBefore {
  partition: number;
  /** Records below it are deleted; -1n means the high watermark. */
  offset: bigint;
}

export interface LowWatermark {
  partition: number;
  lowWatermark: bigint;
}

export async function deleteRecords(core: ClientCore, topic: string, wanted: readonly RecordsBefore[], timeoutMs = 30_000): Promise<LowWatermark[]> {
  return core.retry(async () => {
    const byLeader = await core.partitionsByLeader(topic, wanted.map((w) => w.partition));
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, ps]) => {
        const { body } = await core.request({ node: leader }, API_KEYS.DeleteRecords, () => ({
          topics: [{ name: topic, partitions: wanted.filter((w) => ps.includes(w.partition)).map((w) => ({ partitionIndex: w.partition, offset: w.offset })) }],
          timeoutMs,
        }));
        return ps.map((partition) => {
          const p = body.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partitionIndex === partition);
          if (!p) throw new StreamBusError('SB_ERR_PROTOCOL', `DeleteRecords response lacks partition ${topic}-${partition}`);
          throwIfError(p.errorCode, `delete records of ${topic}-${partition}`);
          return { partition, lowWatermark: p.lowWatermark };
        });
      }),
    );
    return answers.flat().sort((a, b) => a.partition - b.partition);
  });
}
