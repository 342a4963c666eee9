/**
 * The client's plumbing: bootstrap, one negotiated link per broker and purpose, request routing (any
 * broker, the controller, a partition leader, a group coordinator), bounded retries, and the metadata
 * and coordinator caches that routing reads. The typed API methods (kafka-client.ts) sit on top.
 *
 * Group traffic goes over its own link per coordinator, as Kafka clients do: a broker answers the
 * requests of one connection in order, so a heartbeat queued behind a long-polling Fetch would be late.
 *
 * Contract: one client is used from one async context at a time or concurrently (links are shared, each
 * request is matched by correlation id). close() fails everything in flight with SB_ERR_CLOSED.
 */
import type { SaslCredentials } from './sasl-client.ts';
import type { ConnectionOptions } from 'node:tls';
import { API_KEYS, type ApiKey, type ApiMessages } from '../protocol/kafka/generated/index.ts';
import type { Input } from '../protocol/kafka/types.ts';
import { StreamBusError } from '../util/errors.ts';
import { BrokerLink, type Response } from './broker-link.ts';
import { errorFor, KafkaResponseError, throwIfError } from './kafka-error.ts';
import { DEFAULT_RETRY, isRetriableError, withRetry, type RetryOptions } from './retry.ts';
import type { BrokerInfo, ClusterMetadata, TopicInfo } from './types.ts';

export interface KafkaClientOptions {
  /** One address or a comma-separated list, `host:port` (port defaults to 9092). */
  bootstrap: string;
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** TLS to every broker (CA bundle, client certificate and key); plaintext when absent. */
  tls?: ConnectionOptions;
  /** SASL PLAIN or SCRAM on every connection, after version negotiation. */
  sasl?: SaslCredentials;
}

/**
 * Where a request goes. A coordinator target may name its own `link`: requests with different link
 * names travel on different connections, so one group member's JoinGroup (which the coordinator holds
 * during a rebalance) never delays another member's heartbeats in the same client. `keyType` 1 names a
 * transactional id's coordinator instead of a group's.
 */
export type Target = 'any' | 'controller' | { node: number } | { coordinator: string; link?: string; keyType?: CoordinatorKeyType };

/** FindCoordinator key types: 0 a consumer group, 1 a transactional id. */
export type CoordinatorKeyType = 0 | 1;

interface Address {
  host: string;
  port: number;
}

export function parseAddress(text: string): Address {
  const t = text.trim();
  const colon = t.lastIndexOf(':');
  const host = colon > 0 ? t.slice(0, colon).replace(/^\[|\]$/g, '') : t;
  const port = colon > 0 ? Number(t.slice(colon + 1)) : 9092;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StreamBusError('SB_ERR_CONFIG', `invalid broker address "${text}" (expected host:port)`);
  }
  return { host, port };
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export class ClientCore {
  readonly clientId: string;
  protected readonly retryOptions: RetryOptions;
  private readonly bootstrap: Address[];
  private readonly links = new Map<string, Promise<BrokerLink>>();
  private readonly brokers = new Map<number, BrokerInfo>();
  private readonly coordinators = new Map<string, number>();
  private topicsCache = new Map<string, TopicInfo>();
  private controllerId = -1;
  private closed = false;

  constructor(private readonly options: KafkaClientOptions) {
    this.bootstrap = options.bootstrap.split(',').filter((s) => s.trim()).map(parseAddress);
    if (this.bootstrap.length === 0) throw new StreamBusError('SB_ERR_CONFIG', 'no bootstrap address given');
    this.clientId = options.clientId ?? 'streambus-cli';
    this.retryOptions = { ...DEFAULT_RETRY, ...options.retry };
  }

  /** Opens a link to the first bootstrap broker that answers (optional: requests connect on demand). */
  async connect(): Promise<void> {
    await this.linkFor('any');
  }

  close(): void {
    this.closed = true;
    for (const p of this.links.values()) p.then((l) => l.close(), () => undefined);
    this.links.clear();
  }

  /** Sends one request to `target` (no retry; see `retry`). */
  async request<K extends ApiKey>(target: Target, apiKey: K, build: (version: number) => Input<ApiMessages[K]['request']>, timeoutMs?: number): Promise<Response<K>> {
    const link = await this.linkFor(target);
    return link.request(apiKey, build, timeoutMs);
  }

  /** Produce with acks=0 to `target`: resolves once written; the broker sends no response. */
  async requestWithoutResponse(target: Target, build: (version: number) => Input<ApiMessages[0]['request']>): Promise<number> {
    const link = await this.linkFor(target);
    return link.sendWithoutResponse(build);
  }

  /** The negotiated version `target` would get for `apiKey` (null: none in common). */
  async versionFor(target: Target, apiKey: ApiKey): Promise<number | null> {
    return (await this.linkFor(target)).versionFor(apiKey);
  }

  /**
   * Runs `attempt` with bounded retries. Before each retry the caches that a retriable error may have
   * made stale are dropped, so the next attempt re-resolves leaders, controller and coordinators.
   */
  retry<T>(attempt: () => Promise<T>, shouldRetry: (err: unknown) => boolean = isRetriableError): Promise<T> {
    return withRetry(attempt, this.retryOptions, (err) => this.invalidate(err), shouldRetry);
  }

  /**
   * Metadata for `topics` (null = every topic) and the brokers. Topic errors are returned per topic, not
   * thrown. Updates the routing caches. `allowAutoCreate` asks the broker to create unknown topics
   * (Metadata v4+; older versions always allow it, which is why consumers should not rely on it).
   */
  async metadata(topics: string[] | null, opts: { allowAutoCreate?: boolean } = {}): Promise<ClusterMetadata> {
    const { body, version } = await this.retry(() =>
      this.request('any', API_KEYS.Metadata, () => ({
        topics: topics === null ? null : topics.map((name) => ({ name })),
        allowAutoTopicCreation: opts.allowAutoCreate ?? false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      })),
    );
    const result: ClusterMetadata = {
      clusterId: version >= 2 ? body.clusterId : null,
      controllerId: body.controllerId,
      brokers: body.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      topics: body.topics.map((t) => ({
        name: t.name ?? '',
        // Metadata before v10 carries no topic id: the decoder's zero UUID means "not known".
        topicId: t.topicId === ZERO_UUID ? null : t.topicId,
        isInternal: t.isInternal,
        error: errorFor(t.errorCode, `topic ${t.name}`),
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            error: errorFor(p.errorCode, `partition ${t.name}-${p.partitionIndex}`),
          }))
          .sort((a, b) => a.partition - b.partition),
      })),
    };
    for (const b of result.brokers) this.brokers.set(b.nodeId, b);
    this.controllerId = result.controllerId;
    if (topics === null) this.topicsCache = new Map();
    for (const t of result.topics) {
      if (t.error === null) this.topicsCache.set(t.name, t);
      else this.topicsCache.delete(t.name);
    }
    return result;
  }

  /**
   * One topic's metadata, waiting (bounded retries) while the broker reports it being created or a
   * partition without leader. An unknown topic fails at once with UNKNOWN_TOPIC_OR_PARTITION.
   */
  async topic(name: string, opts: { allowAutoCreate?: boolean } = {}): Promise<TopicInfo> {
    return this.retry(
      async () => {
        const md = await this.metadata([name], opts);
        const t = md.topics.find((x) => x.name === name);
        if (!t) throw new KafkaResponseError(3, `topic ${name}`);
        if (t.error) throw t.error;
        const leaderless = t.partitions.find((p) => p.leader < 0);
        if (leaderless) throw new KafkaResponseError(5, `partition ${name}-${leaderless.partition}`);
        return t;
      },
      // Lost connections were already retried inside metadata().
      (err) => err instanceof KafkaResponseError && err.kafkaName === 'LEADER_NOT_AVAILABLE',
    );
  }

  /**
   * The leader of a partition, from the cache or fresh metadata; throws a retriable Kafka error when
   * unknown. `allowAutoCreate` is for producers, which ask the broker to create unknown topics as Kafka's do.
   */
  async leaderOf(topic: string, partition: number, allowAutoCreate = false): Promise<number> {
    let t = this.topicsCache.get(topic);
    if (!t || !t.partitions.some((p) => p.partition === partition)) {
      t = (await this.metadata([topic], { allowAutoCreate })).topics.find((x) => x.name === topic);
      if (t?.error) throw t.error;
    }
    const p = t?.partitions.find((x) => x.partition === partition);
    if (!p) throw new KafkaResponseError(3, `partition ${topic}-${partition}`);
    if (p.leader < 0) throw new KafkaResponseError(5, `partition ${topic}-${partition}`);
    return p.leader;
  }

  /** The given partitions of a topic grouped by their leader's node id. */
  async partitionsByLeader(topic: string, partitions: readonly number[]): Promise<Map<number, number[]>> {
    const byLeader = new Map<number, number[]>();
    for (const p of partitions) {
      const leader = await this.leaderOf(topic, p);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    return byLeader;
  }

  /** The node id of a group's (or transactional id's) coordinator (FindCoordinator, cached until a retriable error). */
  async findCoordinator(key: string, keyType: CoordinatorKeyType = 0): Promise<BrokerInfo> {
    const cacheKey = `${keyType}:${key}`;
    const what = keyType === 0 ? 'group' : 'transactional id';
    const cached = this.coordinators.get(cacheKey);
    if (cached !== undefined && this.brokers.has(cached)) return this.brokers.get(cached)!;
    return this.retry(async () => {
      const { version, body } = await this.request('any', API_KEYS.FindCoordinator, (v) => (v >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType }));
      let c: { nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null };
      if (version >= 4) {
        const entry = body.coordinators.find((x) => x.key === key);
        if (!entry) throw new StreamBusError('SB_ERR_PROTOCOL', `FindCoordinator answered without ${what} ${key}`);
        c = entry;
      } else {
        c = body;
      }
      throwIfError(c.errorCode, `find coordinator of ${what} ${key}`, c.errorMessage);
      const info = { nodeId: c.nodeId, host: c.host, port: c.port, rack: null };
      this.brokers.set(c.nodeId, { ...info, rack: this.brokers.get(c.nodeId)?.rack ?? null });
      this.coordinators.set(cacheKey, c.nodeId);
      return info;
    });
  }

  /** Forgets cached routing after an error that says it is stale. */
  invalidate(err: unknown): void {
    if (!isRetriableError(err)) return;
    this.topicsCache.clear();
    this.coordinators.clear();
    this.controllerId = -1;
  }

  private async linkFor(target: Target): Promise<BrokerLink> {
    if (this.closed) throw new StreamBusError('SB_ERR_CLOSED', 'the client is closed');
    if (target === 'any') return this.anyLink();
    if (target === 'controller') {
      if (this.controllerId < 0 || !this.brokers.has(this.controllerId)) await this.metadata([]);
      if (this.controllerId < 0) throw new KafkaResponseError(15, 'no controller known');
      return this.linkTo('data', this.brokers.get(this.controllerId)!);
    }
    if ('node' in target) {
      if (!this.brokers.has(target.node)) await this.metadata([]);
      const b = this.brokers.get(target.node);
      if (!b) throw new KafkaResponseError(8, `broker ${target.node} is not in the metadata`);
      return this.linkTo('data', b);
    }
    return this.linkTo(target.link ? `group:${target.link}` : 'group', await this.findCoordinator(target.coordinator, target.keyType ?? 0));
  }

  private async anyLink(): Promise<BrokerLink> {
    for (const [key, p] of this.links) {
      if (!key.startsWith('data|')) continue;
      const link = await p.catch(() => null);
      if (link?.isOpen) return link;
    }
    let last: unknown = null;
    for (const address of this.bootstrap) {
      try {
        return await this.linkTo('data', address);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  private async linkTo(purpose: string, address: Address): Promise<BrokerLink> {
    const key = `${purpose}|${address.host}:${address.port}`;
    const existing = this.links.get(key);
    if (existing) {
      const link = await existing.catch(() => null);
      if (link?.isOpen) return link;
      if (this.links.get(key) === existing) this.links.delete(key);
    }
    const opening = BrokerLink.open({
      host: address.host,
      port: address.port,
      clientId: this.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      ...(this.options.sasl === undefined ? {} : { sasl: this.options.sasl }),
    });
    this.links.set(key, opening);
    opening.catch(() => {
      if (this.links.get(key) === opening) this.links.delete(key);
    });
    return opening;
  }
}
