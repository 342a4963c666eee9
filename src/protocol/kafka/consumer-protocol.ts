/**
 * The opaque metadata of the classic "consumer" group protocol: a member's subscription (sent in
 * JoinGroup) and its assignment (sent by the leader in SyncGroup). Both are an int16 version followed by
 * the ConsumerProtocolSubscription / ConsumerProtocolAssignment struct of that version. A version newer
 * than the schema is read as the newest known one: later versions only append fields, which are ignored.
 * Clients encode both; the group coordinator reads subscriptions (OffsetDelete: which topics a group consumes).
 */
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  type ConsumerProtocolSubscription,
} from './generated/index.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/** A topic and some of its partitions, as an assignment lists them. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

const NEWEST = 3;
/** Version 1 adds owned partitions, which this client does not track; 1 is what most clients send. */
const SUBSCRIPTION_VERSION = 1;
const ASSIGNMENT_VERSION = 1;

export function encodeSubscription(topics: readonly string[]): Buffer {
  const w = new Writer(64);
  w.int16(SUBSCRIPTION_VERSION);
  encodeConsumerProtocolSubscription(w, { topics: [...topics].sort(), userData: null, ownedPartitions: [] }, SUBSCRIPTION_VERSION);
  return w.toBuffer();
}

export function decodeSubscription(bytes: Buffer): ConsumerProtocolSubscription {
  const r = new Reader(bytes);
  const version = r.int16();
  return decodeConsumerProtocolSubscription(r, Math.min(Math.max(version, 0), NEWEST));
}

export function encodeAssignment(assigned: readonly TopicPartitions[]): Buffer {
  const w = new Writer(64);
  w.int16(ASSIGNMENT_VERSION);
  encodeConsumerProtocolAssignment(w, { assignedPartitions: assigned.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })), userData: null }, ASSIGNMENT_VERSION);
  return w.toBuffer();
}

/** An empty buffer is an empty assignment (what a coordinator hands a member the leader left out). */
export function decodeAssignment(bytes: Buffer): TopicPartitions[] {
  if (bytes.length === 0) return [];
  const r = new Reader(bytes);
  const version = r.int16();
  const a = decodeConsumerProtocolAssignment(r, Math.min(Math.max(version, 0), NEWEST));
  return a.assignedPartitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((x, y) => x - y) }));
}
