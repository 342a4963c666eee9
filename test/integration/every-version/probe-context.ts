/**
 * What a probe of the every-version test works with: a raw connection, the seeded topic, and setup
 * steps (throwaway topics, a joined group member) made with versions every broker of this project
 * advertises, through the same checks as the request under test.
 */
import assert from 'node:assert/strict';
import { encodeAssignment, encodeSubscription } from '../../../src/protocol/kafka/consumer-protocol.ts';
import { apiVersionEntries } from '../../../src/protocol/kafka/api-versions.ts';
import type { ApiKey, ApiMessages } from '../../../src/protocol/kafka/generated/index.ts';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import type { Input } from '../../../src/protocol/kafka/types.ts';
import { createTopic, type RawKafka } from '../../helpers/raw-kafka.ts';
import { checkedExchange } from './checked-exchange.ts';

/** Session timeout of probe members: long enough to outlive the test, within Kafka's default bounds. */
export const SESSION_TIMEOUT_MS = 30_000;
/** The first Metadata version whose topics carry their id (KIP-516). */
const FIRST_TOPIC_ID_METADATA = 10;

export interface SeededTopic {
  name: string;
  partitions: number;
  /** Records produced to partition 0 before any probe runs; probes never write there. */
  partition0Records: number;
  leaderEpoch: number;
}

export interface Member {
  groupId: string;
  memberId: string;
  generationId: number;
}

export class ProbeContext {
  constructor(
    readonly conn: RawKafka,
    readonly seeded: SeededTopic,
    readonly kafkaPort: number,
  ) {}

  /** Sends a request and checks its answer (checked-exchange.ts). */
  exchange<K extends ApiKey>(apiKey: K, version: number, body: Input<ApiMessages[K]['request']>, step: string): Promise<ApiMessages[K]['response']> {
    return checkedExchange(this.conn, apiKey, version, body, step);
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    assert.equal(await createTopic(this.conn, name, partitions), 0, `create topic ${name}`);
  }

  /**
   * The topic's id from the newest advertised Metadata version, or null when no advertised version
   * carries ids (then no advertised version of any API needs one).
   */
  async topicId(name: string): Promise<string | null> {
    const metadata = apiVersionEntries().find((e) => e.apiKey === API_KEYS.Metadata);
    assert.ok(metadata, 'Metadata is advertised');
    if (metadata.maxVersion < FIRST_TOPIC_ID_METADATA) return null;
    const res = await this.exchange(API_KEYS.Metadata, metadata.maxVersion, { topics: [{ name }], allowAutoTopicCreation: false }, 'topic id');
    const id = res.topics.find((t) => t.name === name)?.topicId;
    assert.ok(id && /^[0-9a-f-]{36}$/.test(id) && id !== '00000000-0000-0000-0000-000000000000', `Metadata v${metadata.maxVersion} gives ${name} an id`);
    return id;
  }

  /** A member alone in a new group, joined with JoinGroup v5 and, when `sync`, synced with SyncGroup v3. */
  async joinedMember(groupId: string, sync: boolean): Promise<Member> {
    const join = { groupId, sessionTimeoutMs: SESSION_TIMEOUT_MS, rebalanceTimeoutMs: SESSION_TIMEOUT_MS, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription([this.seeded.name]) }] };
    const first = await this.exchange(API_KEYS.JoinGroup, 5, { ...join, memberId: '' }, 'join');
    const joined = await this.exchange(API_KEYS.JoinGroup, 5, { ...join, memberId: first.memberId }, 'rejoin');
    assert.equal(joined.leader, joined.memberId, 'a lone member leads its group');
    const member = { groupId, memberId: joined.memberId, generationId: joined.generationId };
    if (sync) {
      await this.exchange(API_KEYS.SyncGroup, 3, { ...member, groupInstanceId: null, assignments: [{ memberId: member.memberId, assignment: this.assignment() }] }, 'sync');
    }
    return member;
  }

  /** Partition 0 of the seeded topic, as a leader would assign it. */
  assignment(): Buffer {
    return encodeAssignment([{ topic: this.seeded.name, partitions: [0] }]);
  }
}
