/**
 * ElectLeaders (43), versions 0-2 (ElectLeadersRequest.json), as Kafka's admin tools use it
 * (kafka-leader-election.sh). Preferred elections (type 0): a partition whose preferred replica (the
 * first of its wanted replicas) leads already answers ELECTION_NOT_NEEDED; one whose preferred replica
 * is down answers PREFERRED_LEADER_NOT_AVAILABLE (as does one still out of sync at the request's
 * timeout); otherwise the answer waits (up to the timeout) until the preferred replica leads: every leader hands leadership to an in-sync
 * preferred replica on its own within seconds (docs/replication.md, "Preferred leaders"), and this
 * request only waits for it. Unclean elections (type 1) do not exist in Raft: a partition with a
 * leader answers ELECTION_NOT_NEEDED, one without ELIGIBLE_LEADERS_NOT_AVAILABLE (a new leader needs
 * a majority of its replicas, which an out-of-sync replica cannot stand in for).
 * With authorization it needs ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { desiredReplicas } from '../../metadata/reassignment.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { clusterAllowed, Op } from '../access.ts';
import { pause } from '../../io/clock-waits.ts';

const PREFERRED = 0;
/** How often a waiting election looks at the leadership again. */
const POLL_MS = 100;
const WAIT_MAX_MS = 60_000;

const notAvailable = (partitionId: number, errorMessage: string): Result => ({ partitionId, errorCode: KafkaErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage });

interface Result {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

export const electLeaders: Handler<43> = async (ctx, request, info) => {
  if (!clusterAllowed(ctx, info, Op.ALTER)) {
    // v0 has no top-level error: each partition asked for carries it (none when all were asked for).
    const errorCode = KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    const replicaElectionResults = (request.topicPartitions ?? []).map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: null })) }));
    return { throttleTimeMs: 0, errorCode: info.apiVersion >= 1 ? errorCode : 0, replicaElectionResults };
  }
  const state = ctx.metadata.state;
  const type = info.apiVersion === 0 ? PREFERRED : request.electionType;
  const asked = request.topicPartitions ?? state.topics().map((t) => ({ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, i) => i) }));
  const deadline = ctx.now() + Math.min(Math.max(request.timeoutMs, 0), WAIT_MAX_MS);
  const results = await Promise.all(
    asked.map(async ({ topic: name, partitions }) => {
      const partitionResult = await Promise.all(
        partitions.map(async (index): Promise<Result> => {
          const topic = state.topic(name);
          if (topic === undefined || index < 0 || index >= topic.partitions) {
            return { partitionId: index, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `${name}-${index} does not exist.` };
          }
          const view = () => ctx.cluster.partition(topic, index);
          if (type !== PREFERRED) {
            return view().leader >= 0
              ? { partitionId: index, errorCode: KafkaErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'The partition has a leader.' }
              : { partitionId: index, errorCode: KafkaErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: 'Raft elects only a replica a majority of the replicas agrees on; none can be elected now.' };
          }
          const preferred = desiredReplicas(topic, index)[0]!;
          if (view().leader === preferred) return { partitionId: index, errorCode: KafkaErrorCode.ELECTION_NOT_NEEDED, errorMessage: `Broker ${preferred}, the preferred replica, leads.` };
          for (;;) {
            const now = view();
            if (now.leader === preferred) return { partitionId: index, errorCode: 0, errorMessage: null };
            // Down: it cannot lead. Up but out of the in-sync set (catching up, or a new leader still
            // sampling its followers): it may be in sync in a moment, so that is only the answer at the end.
            if (now.offline.includes(preferred)) return notAvailable(index, `Broker ${preferred}, the preferred replica, is down.`);
            if (ctx.now() >= deadline) {
              return now.isr.includes(preferred)
                ? { partitionId: index, errorCode: KafkaErrorCode.REQUEST_TIMED_OUT, errorMessage: `Broker ${preferred} did not take the leadership within the timeout; it will shortly.` }
                : notAvailable(index, `Broker ${preferred}, the preferred replica, is not in sync.`);
            }
            await pause(ctx.clock, POLL_MS);
          }
        }),
      );
      return { topic: name, partitionResult };
    }),
  );
  return { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: results };
};
