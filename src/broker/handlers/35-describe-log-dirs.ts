/**
 * DescribeLogDirs (35), versions 0-4 (DescribeLogDirsRequest.json): the one log directory of this
 * broker (`storage.dataDir`) with the size of every partition replica it holds, all of them or those
 * asked for, as Kafka's kafka-log-dirs tool and cluster UIs read them; v4 adds the volume's size and
 * free space. A replica's offset lag is how far its log end is below its high watermark (0 unless it
 * is catching up). With authorization it needs DESCRIBE on the cluster (else, from v3,
 * CLUSTER_AUTHORIZATION_FAILED; before, no directories, as Kafka answers).
 */
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { DescribeLogDirsTopic } from '../../protocol/kafka/generated/describe-log-dirs-response.ts';
import type { Partition } from '../../replication/partition.ts';
import { clusterAllowed, Op } from '../access.ts';
import type { Handler } from '../handler.ts';

/** What v4 reports for a volume whose size cannot be read. */
const UNKNOWN_BYTES = -1n;

export const describeLogDirs: Handler<35> = async (ctx, request, info) => {
  if (!clusterAllowed(ctx, info, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
  const asked = request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
  const byTopic = new Map<string, Partition[]>();
  for (const p of ctx.partitions.all()) {
    if (asked !== null && asked.get(p.topic)?.has(p.index) !== true) continue;
    const list = byTopic.get(p.topic) ?? [];
    list.push(p);
    byTopic.set(p.topic, list);
  }
  const topics: DescribeLogDirsTopic[] = [...byTopic].map(([name, partitions]) => ({
    name,
    partitions: partitions
      .sort((a, b) => a.index - b.index)
      .map((p) => ({ partitionIndex: p.index, partitionSize: BigInt(p.log.sizeBytes), offsetLag: BigInt(Math.max(0, p.highWatermark - p.logEndOffset)), isFutureKey: false })),
  }));
  const logDir = resolve(ctx.config.storage.dataDir);
  const volume = await volumeBytes(logDir);
  return { throttleTimeMs: 0, errorCode: 0, results: [{ errorCode: 0, logDir, topics, ...volume }] };
};

/** The size and the space left to unprivileged writers of the volume holding `dir`, or -1 for each when unknown. */
async function volumeBytes(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    // A runtime without statfs, or a directory gone: the sizes are optional (v4), the replicas are not.
    return { totalBytes: UNKNOWN_BYTES, usableBytes: UNKNOWN_BYTES };
  }
}
