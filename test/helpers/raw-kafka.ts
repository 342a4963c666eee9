/**
 * A raw Kafka connection for tests that must send exactly the bytes they choose (malformed frames,
 * unadvertised versions, hand-built record batches) and watch what the broker does with the socket.
 * Requests are encoded with the project's own codecs; responses arrive in request order, matched by
 * correlation id. `closed` resolves when the broker closes the connection (or it errors); a request
 * still waiting then rejects. A response frame with an impossible size closes the socket from this side.
 */
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/protocol/frame-decoder.ts';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/kafka/codec.ts';
import type { ApiKey, ApiMessages } from '../../src/protocol/kafka/generated/index.ts';
import type { Input } from '../../src/protocol/kafka/types.ts';
import { buildRecordBatch, readRecords, splitBatches, type BatchOptions } from '../../src/protocol/kafka/record-batch/index.ts';
import { offsetsPartitionFor } from '../../src/metadata/offsets-partition.ts';

/** Largest response frame accepted; tests never ask for more. */
const MAX_RESPONSE_BYTES = 1 << 30;
/** Every response frame starts with its int32 correlation id. */
const MIN_RESPONSE_BYTES = 4;

interface Waiter {
  resolve(frame: Buffer): void;
  reject(err: Error): void;
}

export class RawKafka {
  readonly closed: Promise<void>;
  private readonly frames = new FrameDecoder({ maxFrameBytes: MAX_RESPONSE_BYTES, minFrameBytes: MIN_RESPONSE_BYTES });
  private failure: Error | null = null;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.isClosed = true;
        for (const w of this.waiters.values()) w.reject(this.failure ?? new Error('connection closed by the broker'));
        this.waiters.clear();
        resolve();
      };
      socket.once('close', done);
      socket.on('error', () => socket.destroy());
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static connect(port: number, timeoutMs = 5_000): Promise<RawKafka> {
    return RawKafka.opened(connect({ host: '127.0.0.1', port }), 'connect', `connect to 127.0.0.1:${port}`, timeoutMs);
  }

  /** As connect, over TLS (node:tls options: ca, cert, key). */
  static connectTls(port: number, options: ConnectionOptions, timeoutMs = 5_000): Promise<RawKafka> {
    return RawKafka.opened(tlsConnect({ host: '127.0.0.1', port, ...options }), 'secureConnect', `TLS connect to 127.0.0.1:${port}`, timeoutMs);
  }

  /** Waits for `socket` to emit `ready` (or fail, or time out). */
  private static async opened(socket: Socket, ready: 'connect' | 'secureConnect', what: string, timeoutMs: number): Promise<RawKafka> {
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${what} timed out`));
      }, timeoutMs);
      socket.once(ready, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new RawKafka(socket);
  }

  get open(): boolean {
    return !this.isClosed;
  }

  /** Writes bytes as they are (no framing). */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a request without waiting; returns its correlation id. */
  send<K extends ApiKey>(apiKey: K, apiVersion: number, body: Input<ApiMessages[K]['request']>, clientId = 'raw-test'): number {
    const id = this.nextId++;
    this.socket.cork();
    for (const b of encodeRequestFrame(apiKey, apiVersion, id, clientId, body)) this.socket.write(b);
    this.socket.uncork();
    return id;
  }

  /** The next response frame (size prefix removed) with this correlation id. */
  response(correlationId: number, timeoutMs = 10_000): Promise<Buffer> {
    if (this.isClosed) return Promise.reject(this.failure ?? new Error('connection closed by the broker'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(correlationId);
        reject(new Error(`no response to correlation id ${correlationId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(correlationId, {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a request and decodes its response. */
  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: Input<ApiMessages[K]['request']>, timeoutMs?: number): Promise<ApiMessages[K]['response']> {
    const id = this.send(apiKey, apiVersion, body);
    const frame = await this.response(id, timeoutMs);
    return decodeResponse(apiKey, apiVersion, frame).body;
  }

  /** Resolves true if the broker closes the connection within `timeoutMs`, false otherwise (also when this side closed it on a bad frame). */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => this.failure === null), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    try {
      for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
        const correlationId = frame.readInt32BE(0);
        const waiter = this.waiters.get(correlationId);
        if (waiter) {
          this.waiters.delete(correlationId);
          waiter.resolve(frame);
        }
      }
    } catch (err) {
      this.failure = new Error(`bad response frame from the broker: ${(err as Error).message}`, { cause: err });
      this.frames.clear();
      this.socket.destroy();
    }
  }
}

/** One batch of string records, for hand-built Produce requests. */
export function textBatch(values: readonly string[], opts: BatchOptions = {}, keys?: readonly string[]): Buffer {
  return buildRecordBatch(
    values.map((v, i) => ({ key: keys ? Buffer.from(keys[i]!) : null, value: Buffer.from(v) })),
    opts,
  );
}

/** Produce v7 body for one partition. */
export function produceBody(topic: string, partition: number, records: Uint8Array | readonly Uint8Array[], acks = -1): Input<ApiMessages[0]['request']> {
  return { transactionalId: null, acks, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

export interface FetchedRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
}

/**
 * Reads a partition from `fromOffset` up to its high watermark with Fetch v11 (no session), decoding
 * every record. Bounded: at most `maxRounds` fetches.
 */
export async function fetchAll(conn: RawKafka, topic: string, partition: number, fromOffset = 0n, maxRounds = 10_000): Promise<{ records: FetchedRecord[]; highWatermark: bigint }> {
  const out: FetchedRecord[] = [];
  let next = fromOffset;
  for (let round = 0; round < maxRounds; round++) {
    const res = await conn.request(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} at ${next}: error ${p.errorCode}`);
    const records = p.records;
    if (records && records.length > 0) {
      for (const { start, end } of splitBatches(records)) {
        const batch = records.subarray(start, end);
        const base = batch.readBigInt64BE(0);
        for (const r of readRecords(batch)) {
          const offset = base + BigInt(r.offsetDelta);
          if (offset < next) continue;
          out.push({ offset, key: r.key ? r.key.toString() : null, value: r.value ? r.value.toString() : null });
        }
        const last = base + BigInt(batch.readInt32BE(23));
        if (last + 1n > next) next = last + 1n;
      }
    }
    if (next >= p.highWatermark) return { records: out, highWatermark: p.highWatermark };
  }
  throw new Error(`fetchAll ${topic}/${partition}: more than ${maxRounds} rounds`);
}

/** Creates a topic with CreateTopics v7; returns the error code (0, or 36 if it exists). */
export async function createTopic(conn: RawKafka, name: string, partitions: number, configs: Record<string, string> = {}): Promise<number> {
  const res = await conn.request(19, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return res.topics[0]!.errorCode;
}

/**
 * Commits offsets for a group with no members (generation -1, empty member id: a "simple" commit,
 * as admin tools do) with OffsetCommit v8; returns the error code per partition.
 */
export async function commitOffsets(conn: RawKafka, groupId: string, topic: string, offsets: ReadonlyMap<number, bigint>): Promise<Map<number, number>> {
  const res = await conn.request(8, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: topic, partitions: [...offsets].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: '' })) }],
  });
  return new Map(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]));
}

/** Committed offsets (-1 when none) of a group's partitions, with OffsetFetch v8. */
export async function fetchOffsets(conn: RawKafka, groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, bigint>> {
  const res = await conn.request(9, 8, { groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [...partitions] }] }], requireStable: false });
  const group = res.groups[0]!;
  if (group.errorCode !== 0) throw new Error(`OffsetFetch ${groupId}: error ${group.errorCode}`);
  const out = new Map<number, bigint>();
  for (const p of group.topics[0]?.partitions ?? []) {
    if (p.errorCode !== 0) throw new Error(`OffsetFetch ${groupId} ${topic}/${p.partitionIndex}: error ${p.errorCode}`);
    out.set(p.partitionIndex, p.committedOffset);
  }
  return out;
}

/** The `__consumer_offsets` partition that holds the group (Kafka's rule, over the partition count Metadata v12 gives). */
export async function offsetsPartitionOf(conn: RawKafka, groupId: string): Promise<number> {
  const res = await conn.request(3, 12, { topics: [{ name: '__consumer_offsets' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  const partitions = res.topics[0]?.partitions.length ?? 0;
  if (partitions === 0) throw new Error('__consumer_offsets does not exist');
  return offsetsPartitionFor(groupId, partitions);
}
