/**
 * Partition assignors of the classic consumer protocol, run by the group leader. Both are deterministic
 * given their input (members sorted by id, topics by name), so every leader computes the same result.
 *
 * - range: per topic, the subscribed members in id order take consecutive ranges; the first
 *   `partitions % members` take one extra (Kafka's RangeAssignor).
 * - roundrobin: every subscribed topic-partition in (topic, partition) order is dealt to the members in
 *   id order, skipping members not subscribed to that topic (Kafka's RoundRobinAssignor).
 */
import type { TopicPartitions } from './types.ts';

export type AssignorName = 'range' | 'roundrobin';

export interface AssignorMember {
  memberId: string;
  topics: readonly string[];
}

/** memberId -> its partitions, by topic; every member appears, possibly with nothing. */
export type Assignment = Map<string, TopicPartitions[]>;

export function assign(name: AssignorName, members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out = new Map<string, Map<string, number[]>>(sorted.map((m) => [m.memberId, new Map()]));
  const give = (memberId: string, topic: string, partition: number) => {
    const byTopic = out.get(memberId)!;
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  };
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort();
  if (name === 'range') {
    for (const topic of topics) {
      const subscribers = sorted.filter((m) => m.topics.includes(topic));
      const count = partitionsPerTopic.get(topic)!;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const n = base + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) give(m.memberId, topic, next++);
      });
    }
  } else {
    let turn = 0;
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < count; partition++) {
        // Bounded: the topic has at least one subscriber, so some member within one round takes it.
        for (let tries = 0; tries < sorted.length; tries++) {
          const m = sorted[turn % sorted.length]!;
          turn++;
          if (m.topics.includes(topic)) {
            give(m.memberId, topic, partition);
            break;
          }
        }
      }
    }
  }
  return new Map([...out].map(([id, byTopic]) => [id, [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))]));
}
