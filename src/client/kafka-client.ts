/**
 * KafkaClient: the small Kafka-protocol client the CLI is built on. Plumbing (bootstrap, negotiated
 * links, routing, retries, metadata) lives in ClientCore; each method below delegates to the module
 * that owns its API. See types.ts for result shapes and kafka-error.ts for the error type.
 *
 * Errors: Kafka error codes become KafkaResponseError (SB_ERR_KAFKA) after bounded retries of the
 * retriable ones; batch admin calls return them per item instead. Connection problems are SB_ERR_IO or
 * SB_ERR_CLOSED; a broker without a usable version of an API gives SB_ERR_UNSUPPORTED_VERSION.
 */
import { ClientCore } from './client-core.ts';
import { deleteScramUser, describeScramUsers, upsertScramUser, type ScramChange, type ScramUser } from './scram-admin.ts';
import type { ScramHashName } from '../protocol/sasl/scram-math.ts';
import { createAcls, deleteAcls, describeAcls, type AclEntry, type AclEntryFilter, type DeletedAcls } from './acl-admin.ts';
import { describeTransaction, listTransactions, type DescribedTransaction, type ListedTransaction, type TransactionFilter } from './transaction-admin.ts';
import { alterClientQuotas, describeClientQuotas, type QuotaEntityPart, type QuotaEntry, type QuotaMatch } from './quota-admin.ts';
import { describeCluster, type ClusterDescription } from './cluster-info.ts';
import { alterConfigs, describeConfigs, type ConfigOperation, type ConfigResource, type DescribedConfigs, type ResourceType } from './configs.ts';
import { fetchPartitions, type FetchOptions, type PartitionFetch } from './fetch.ts';
import { GroupConsumer, type GroupConsumerOptions } from './group-consumer.ts';
import { deleteGroups, describeGroups, listGroups, type GroupDescription, type ListedGroup } from './group-admin.ts';
import { offsetCommit, offsetFetch, type CommitOptions, type CommittedOffset } from './group-offsets.ts';
import type { KafkaResponseError } from './kafka-error.ts';
import { deleteRecords, type LowWatermark, type RecordsBefore } from './delete-records.ts';
import { listOffsets, type OffsetSpec, type PartitionOffset } from './list-offsets.ts';
import { produce, type ProduceOptions, type ProduceResult } from './produce.ts';
import { createPartitions, createTopics, deleteTopics, type AdminOptions, type CreatedTopic, type NewTopic } from './topic-admin.ts';
import type { ItemResult, ProduceRecord, TopicPartitionOffset, TopicPartitions } from './types.ts';

export class KafkaClient extends ClientCore {
  createTopics(topics: readonly NewTopic[], opts?: AdminOptions): Promise<CreatedTopic[]> {
    return createTopics(this, topics, opts);
  }

  deleteTopics(names: readonly string[], opts?: AdminOptions): Promise<ItemResult[]> {
    return deleteTopics(this, names, opts);
  }

  createPartitions(topics: readonly { topic: string; count: number }[], opts?: AdminOptions): Promise<ItemResult[]> {
    return createPartitions(this, topics, opts);
  }

  describeConfigs(resources: readonly ConfigResource[]): Promise<DescribedConfigs[]> {
    return describeConfigs(this, resources);
  }

  /** IncrementalAlterConfigs on one resource; resolves with the broker's error for it, or null. */
  alterConfigs(type: ResourceType, name: string, operations: readonly ConfigOperation[], opts?: { validateOnly?: boolean }): Promise<KafkaResponseError | null> {
    return alterConfigs(this, type, name, operations, opts);
  }

  createAcls(entries: readonly AclEntry[]): Promise<(KafkaResponseError | null)[]> {
    return createAcls(this, entries);
  }

  describeAcls(filter: AclEntryFilter): Promise<AclEntry[]> {
    return describeAcls(this, filter);
  }

  deleteAcls(filters: readonly AclEntryFilter[]): Promise<DeletedAcls[]> {
    return deleteAcls(this, filters);
  }

  describeScramUsers(users?: readonly string[]): Promise<(ScramUser & { error: KafkaResponseError | null })[]> {
    return describeScramUsers(this, users);
  }

  upsertScramUser(user: string, mechanism: ScramHashName, password: string, iterations: number): Promise<ScramChange> {
    return upsertScramUser(this, user, mechanism, password, iterations);
  }

  deleteScramUser(user: string, mechanism: ScramHashName): Promise<ScramChange> {
    return deleteScramUser(this, user, mechanism);
  }

  describeClientQuotas(filter: readonly QuotaMatch[], strict = false): Promise<QuotaEntry[]> {
    return describeClientQuotas(this, filter, strict);
  }

  alterClientQuotas(entity: readonly QuotaEntityPart[], changes: Readonly<Record<string, number | null>>, validateOnly?: boolean): Promise<KafkaResponseError | null> {
    return alterClientQuotas(this, entity, changes, validateOnly);
  }

  /** DeleteRecords: each partition's log start moves up to its offset; resolves with the new low watermarks. */
  deleteRecords(topic: string, wanted: readonly RecordsBefore[], timeoutMs?: number): Promise<LowWatermark[]> {
    return deleteRecords(this, topic, wanted, timeoutMs);
  }

  produce(topic: string, partition: number, records: readonly ProduceRecord[], opts?: ProduceOptions): Promise<ProduceResult> {
    return produce(this, topic, partition, records, opts);
  }

  /** Records of one partition from `offset` on (at most about `maxBytes`); throws the partition's error. */
  async fetch(topic: string, partition: number, offset: bigint, opts: FetchOptions = {}): Promise<PartitionFetch> {
    const [result] = await fetchPartitions(this, [{ topic, partition, offset }], { ...opts, partitionMaxBytes: opts.partitionMaxBytes ?? opts.maxBytes });
    if (result!.error) throw result!.error;
    return result!;
  }

  /** Records of many partitions in one round (one request per leader); errors per partition. */
  fetchMany(wanted: readonly TopicPartitionOffset[], opts?: FetchOptions): Promise<PartitionFetch[]> {
    return fetchPartitions(this, wanted, opts);
  }

  listOffsets(topic: string, partitions: readonly number[], spec: OffsetSpec, isolationLevel?: 0 | 1): Promise<PartitionOffset[]> {
    return listOffsets(this, topic, partitions, spec, isolationLevel);
  }

  listTransactions(filter?: TransactionFilter): Promise<ListedTransaction[]> {
    return listTransactions(this, filter);
  }

  describeTransaction(transactionalId: string): Promise<DescribedTransaction> {
    return describeTransaction(this, transactionalId);
  }

  listGroups(): Promise<ListedGroup[]> {
    return listGroups(this);
  }

  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return describeGroups(this, groupIds);
  }

  offsetFetch(groupId: string, topics: readonly TopicPartitions[] | null): Promise<CommittedOffset[]> {
    return offsetFetch(this, groupId, topics);
  }

  offsetCommit(groupId: string, offsets: readonly TopicPartitionOffset[], opts?: CommitOptions): Promise<void> {
    return offsetCommit(this, groupId, offsets, opts);
  }

  deleteGroups(groupIds: readonly string[]): Promise<ItemResult[]> {
    return deleteGroups(this, groupIds);
  }

  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this);
  }

  /** A group member that polls records from `options.topics`; close() it to leave the group. */
  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new GroupConsumer(this, options);
  }
}
