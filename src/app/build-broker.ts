/**
 * Wires one broker from its configuration: the disk backend (native addon or portable), the metadata
 * store, the partition logs, the group coordinator and the Kafka request router. Recovery runs as the
 * "storage" service, after the HTTP endpoint is up (so liveness answers during a long recovery) and
 * before the Kafka listener accepts (so readiness means recovered).
 */
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import { KafkaMetrics } from '../observability/kafka-metrics.ts';
import { createDisk } from '../io/real/select-disk.ts';
import { realClock } from '../io/real/real-clock.ts';
import { sdNotify } from '../io/real/system.ts';
import { MetadataStore } from '../replication/metadata-store.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { ClusterView } from '../replication/cluster-view.ts';
import type { Partition } from '../replication/partition.ts';
import type { PartitionHosting } from '../replication/partition-hosting.ts';
import { ClusterNode } from './cluster-node.ts';
import { CoordinatorPlacement } from './coordinator-placement.ts';
import { TransactionCoordinators } from './transaction-coordinators.ts';
import { registerTransactionMetrics } from './transaction-metrics.ts';
import { OFFSETS_TOPIC, TXN_STATE_TOPIC } from '../metadata/topic-name.ts';
import { writeMarkerAsLeader } from '../broker/txn-marker-write.ts';
import { PartitionManager } from '../replication/partition-manager.ts';
import { SoloClusterView } from '../replication/solo-cluster-view.ts';
import { GroupCoordinator } from '../groups/group-coordinator.ts';
import { GroupRouter } from '../groups/group-router.ts';
import { RequestRouter } from '../broker/request-router.ts';
import type { AdminNode } from './cluster-admin.ts';
import { buildAdminApi } from './admin-api.ts';
import { HANDLERS } from '../broker/handlers/index.ts';
import { TopicService } from '../broker/topic-service.ts';
import type { BrokerContext } from '../broker/context.ts';
import type { BrokerParts, Service } from './broker-app.ts';
import { ServerTls } from '../security/server-tls.ts';
import { JwtVerifier, jwtSettings } from '../security/jwt-verifier.ts';
import { SaslAuthenticator } from '../security/sasl.ts';
import { bootstrapScramUser, scramMechanisms } from './scram-bootstrap.ts';
import { ScramMechanism } from '../metadata/scram-credentials.ts';
import { enabledAuthenticationMethods, type AuthenticationConfig } from '../config/index.ts';
import { Authorizer, parseSuperUsers } from '../security/authorizer.ts';
import { ClientQuotaEnforcer } from '../tenancy/client-quota-enforcer.ts';
import { buildTenancy } from './build-tenancy.ts';
import type { AclBinding } from '../metadata/acls.ts';
import { LineRateLimiter, rateLimitedLogger } from '../observability/rate-limited-logger.ts';
import { registerTlsMetrics } from './tls-metrics.ts';
import { StorageLogFactory } from './storage-log-factory.ts';
import { PartitionOffsetsLog } from './offsets-log.ts';
import { registerStorageMetrics } from './storage-metrics.ts';
import { registerClusterMetrics } from './cluster-metrics.ts';
import { logMaintenance } from './log-maintenance.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { buildTracing } from './build-tracing.ts';

/** Kafka's offsets.topic.num.partitions default. */
const OFFSETS_PARTITIONS = 50;

export async function buildBroker(config: BrokerConfig, log: Logger, metrics: BrokerMetrics): Promise<BrokerParts> {
  const disk = createDisk('auto');
  log.info({ backend: disk.info.backend, reason: disk.info.reason }, 'I/O backend');
  const clock = realClock;
  const now = () => clock.now();
  const strict = config.storage.syncInterval === 0;
  const logs = new StorageLogFactory(disk, clock, config);
  const partitions = new PartitionManager(logs, strict);
  // Checked again here (the CLI checked first): nothing listens with files that fail (tls-material.ts).
  const tls = config.security.tls.enabled
    ? ServerTls.load({ ...config.security.tls, principalMappingRules: config.security.authentication.mtls.principalMappingRules }, log)
    : undefined;
  if (tls !== undefined) registerTlsMetrics(metrics.registry, tls);

  // A broker of a cluster: cluster.nodes names other brokers too (docs/replication.md).
  const inCluster = config.cluster.nodes.some((n) => n.id !== config.server.brokerId);
  // Filled in by the storage (and cluster) services before the listener starts; handlers never run before that.
  const late = {} as { metadata: MetadataService; cluster: ClusterView; topics: TopicService; groups: GroupRouter; raftGroups?: () => { hosted: number; quiesced: number } };
  let clusterNode: ClusterNode | undefined;
  let adminNode: AdminNode | null = null;
  let groupPlacement: CoordinatorPlacement<GroupCoordinator> | undefined;
  let transactions: TransactionCoordinators | undefined;
  const kafkaMetrics = new KafkaMetrics(metrics.registry, now, () =>
    late.groups
      ? late.groups
          .consumerLag((topic, index) => partitions.get(topic, index)?.highWatermark)
          .map((l) => ({ group: l.groupId, topic: l.topic, partition: l.partition, lag: Number(l.lag) }))
      : [],
    config.metrics.interval,
  );
  registerStorageMetrics(metrics.registry, disk, config.storage.dataDir, partitions);
  const txnMetrics = registerTransactionMetrics(metrics.registry, () => transactions?.router);
  registerClusterMetrics(metrics.registry, { metadata: () => late.metadata, view: () => late.cluster, raftGroups: () => late.raftGroups?.() });

  const groupConfig = {
    groupInitialRebalanceDelayMs: config.kafka.groupInitialRebalanceDelayMs,
    offsetsRetentionMs: config.kafka.offsetsRetentionMinutes * 60_000,
  };
  const tracing = await buildTracing(config, log, metrics);
  const sasl = await buildSasl(config.security.authentication, () => late.metadata, log);
  const authorizer = buildAuthorizer(config, () => late.metadata.state.acls(), log);
  const self = { id: config.server.brokerId, host: config.server.advertisedHost, port: config.server.port, rack: config.server.rack === '' ? null : config.server.rack };
  const ctx: BrokerContext = {
    clock,
    nodeId: config.server.brokerId,
    config,
    partitions,
    metrics: kafkaMetrics,
    log,
    now,
    sasl,
    authorizer,
    clientQuotas: new ClientQuotaEnforcer(() => late.metadata.state.clientQuotas()),
    tenancy: buildTenancy(config, metrics.registry, () => late.metadata, log, now),
    tracing: tracing?.tracing ?? null,
    get metadata() {
      return late.metadata;
    },
    get cluster() {
      return late.cluster;
    },
    get topics() {
      return late.topics;
    },
    get groups() {
      return late.groups;
    },
    transactions: {
      get router() {
        return transactions!.router;
      },
      want: () => transactions?.want(),
    },
  };

  let dataDirLock: DataDirLock | undefined;
  const storage: Service = {
    name: 'storage',
    async start() {
      dataDirLock = lockDataDir(config.storage.dataDir);
      const recovery = await logs.recover();
      log.info(
        { partitions: recovery.online + recovery.offline, offline: recovery.offline, cleanShutdowns: recovery.cleanShutdowns, truncatedBytes: recovery.truncatedBytes, ms: recovery.durationMs },
        'storage recovered',
      );
      for (const p of recovery.partitions) if (p.error) log.error({ topic: p.topic, partition: p.partition, err: p.error }, 'partition offline after recovery');
      if (inCluster) return; // the cluster service reads the metadata from the controller
      const metadataFile = join(config.storage.dataDir, 'cluster-metadata.json');
      late.metadata = await MetadataStore.open(
        {
          load: async () => (await disk.readFile(metadataFile))?.toString('utf8') ?? null,
          save: (text) => disk.writeFileDurable(metadataFile, Buffer.from(text)),
        },
        () => randomUUID(),
        config.server.brokerId,
      );
      late.cluster = new SoloClusterView(self, partitions);
      const metadata = late.metadata;
      adminNode = { metadata, view: late.cluster, controllerVoters: () => [self.id], isReachable: (id) => id === self.id };
      late.topics = new TopicService(config, late.metadata, partitions, log, now);
      const offline = await late.topics.openAll();
      if (offline > 0) log.error({ offline }, 'some partitions are offline; the rest of the broker serves');
    },
    quiesce() {
      // Long-polling fetches answer now with what they have.
      for (const p of partitions.all()) p.wakeAll();
    },
    async stop() {
      try {
        await partitions.closeAll();
      } finally {
        dataDirLock?.release();
      }
    },
  };

  const coordinatorOn = (partition: Partition) =>
    new GroupCoordinator({
      log: new PartitionOffsetsLog(partition, now),
      clock,
      newId: () => randomUUID(),
      config: groupConfig,
      onBackgroundError: (err, context) => log.error({ err, context }, 'group coordinator background write failed'),
    });

  const cluster: Service = {
    name: 'cluster',
    async start() {
      clusterNode = await ClusterNode.open({ config, log, metrics, disk, clock, partitions, ...(tls === undefined ? {} : { tls }) });
      try {
        await clusterNode.join();
      } catch (err) {
        // Not started, so stop() will not be called for it: release the transport and the controller log here.
        await clusterNode.stop().catch(() => undefined);
        throw err;
      }
      const node = clusterNode;
      adminNode = node;
      late.metadata = node.metadata;
      late.cluster = node.view;
      late.raftGroups = () => node.raftGroups();
      let hosting: PartitionHosting | undefined;
      late.topics = new TopicService(
        config,
        node.metadata,
        {
          // Partitions open where the metadata places them, on every broker, once the change applies there.
          open: async () => {
            await hosting?.reconcile();
            return [];
          },
          removeTopic: async () => {
            await hosting?.reconcile();
          },
          reconfigure: (name, settings) => partitions.reconfigure(name, settings),
        },
        log,
        now,
        (id) => node.isReachable(id),
      );
      hosting = await node.hostPartitions((topic) => late.topics.logSettings(topic));
    },
    quiesce() {
      clusterNode?.startHandOver();
    },
    abortStart() {
      clusterNode?.abort();
    },
    async stop() {
      // Half the shutdown budget for moving leadership; the rest for closing.
      await clusterNode?.finishHandOver(config.server.shutdownTimeout / 2);
      await clusterNode?.stop();
    },
  };

  let stopping = false;
  const groups: Service = {
    name: 'group coordinator',
    async start() {
      void bootstrapScramUser(config.security.authentication, () => late.metadata, log, () => stopping);
      const node = clusterNode;
      const alone = node === undefined;
      const voters = alone ? 1 : Math.max(1, config.cluster.nodes.length);
      transactions = new TransactionCoordinators({
        metadata: () => late.metadata,
        cluster: () => late.cluster,
        topics: () => late.topics,
        partitions,
        ...(alone ? {} : { channel: node.channel }),
        voters,
        // A marker of a transaction this broker's coordinators (or another broker's) end, on a partition it leads.
        writeHere: (marker, name, index) => writeMarkerAsLeader(ctx, marker, name, index),
        limits: { maxTimeoutMs: config.kafka.transactionMaxTimeoutMs, checkIntervalMs: config.kafka.transactionTimeoutCheckIntervalMs, idExpirationMs: config.kafka.transactionalIdExpirationMs },
        clock,
        log,
        onEnded: (commit, durationMs) => txnMetrics.ended(commit, durationMs),
      });
      late.metadata.onChange(() => transactions?.check());
      transactions.start();
      const router = new GroupRouter(() => late.metadata.state.topic(OFFSETS_TOPIC)?.partitions ?? 0, GroupCoordinator.elsewhere({ clock, newId: () => randomUUID(), config: groupConfig }));
      const placement = new CoordinatorPlacement({
        what: 'consumer groups',
        topic: OFFSETS_TOPIC,
        // One partition on a lone broker (Kafka's 50 spread the coordinators over brokers); data
        // directories made otherwise keep theirs, every one coordinated here.
        partitionCount: alone ? 1 : OFFSETS_PARTITIONS,
        replicationFactor: Math.min(3, voters),
        eager: true,
        brokers: () => (alone ? 1 : late.metadata.state.brokers().length),
        metadata: () => late.metadata,
        topics: () => late.topics,
        partitions,
        slots: router,
        coordinatorOn,
        clock,
        log,
      });
      groupPlacement = placement;
      late.groups = router;
      late.metadata.onChange(() => void placement.check());
      if (alone) {
        // Nobody else could coordinate its groups: the broker is ready only once they are loaded here.
        await placement.startAlone();
        return;
      }
      node.onPartitionLeadership((replica) => {
        if (replica.partition.topic === OFFSETS_TOPIC) void placement.check();
        else if (replica.partition.topic === TXN_STATE_TOPIC) transactions?.check();
      });
      void placement.start();
    },
    quiesce() {
      // Parked JoinGroup/SyncGroup requests are answered (NOT_COORDINATOR) so the drain is not held up
      // for a rebalance timeout; clients find the coordinator again after the restart.
      late.groups?.close();
    },
    async stop() {
      stopping = true;
      transactions?.stop();
      groupPlacement?.stop();
      late.groups?.close();
    },
  };

  const maintenance = logMaintenance(
    partitions,
    config.storage.compactionInterval,
    log,
    clock,
    (p, nowMs) => clusterNode?.replicas.retain(p, nowMs) ?? Promise.resolve(0),
    config.kafka.transactionMaxTimeoutMs,
    // Offsets a TxnOffsetCommit left pending for a transaction the partition leader aborted go with it.
    (p, producerId) => void (p.topic === OFFSETS_TOPIC ? late.groups?.completeTransaction(p.index, producerId, false) : undefined),
  );

  return {
    config,
    log,
    metrics,
    services: [...(tracing === null ? [] : [tracing.service]), storage, ...(inCluster ? [cluster] : []), groups, maintenance],
    soloController: !inCluster,
    admin: buildAdminApi({ config, ...(tls === undefined ? {} : { tls }), authorizer, node: () => adminNode }),
    ...(tls === undefined ? {} : { tls }),
    sasl,
    frameHandler: new RequestRouter(ctx, HANDLERS),
    notify: (state) => {
      try {
        sdNotify(state);
      } catch (err) {
        log.warn({ err, state }, 'sd_notify failed');
      }
    },
  };
}

/** Refusals logged per minute at most: a client retrying a refused request must not flood the log. */
const REFUSALS_LOGGED = { perWindow: 50, windowMs: 60_000 };

/** The ACL authorizer (security.authorization), or null when every request is allowed. */
function buildAuthorizer(config: BrokerConfig, acls: () => readonly AclBinding[], log: Logger): Authorizer | null {
  const settings = config.security.authorization;
  if (!settings.enabled) return null;
  const superUsers = parseSuperUsers(settings.superUsers);
  // The CLI refused a malformed list before the broker started (security-checks.ts).
  if ('problem' in superUsers) throw new Error(`security.authorization.superUsers: ${superUsers.problem}`);
  const authLog = rateLimitedLogger(log.child({ component: 'authorizer' }), new LineRateLimiter(REFUSALS_LOGGED, () => performance.now()));
  log.info({ superUsers: superUsers.principals, allowEveryoneIfNoAclFound: settings.allowEveryoneIfNoAclFound }, 'authorization on: requests are checked against ACLs');
  return new Authorizer(acls, { superUsers: superUsers.principals, allowEveryoneIfNoAclFound: settings.allowEveryoneIfNoAclFound }, authLog);
}

/**
 * SASL on the Kafka listener when a SASL method is enabled: OAUTHBEARER for jwt (the CLI checked the
 * key file), SCRAM and PLAIN against the credentials in the metadata. Null when clients need none.
 */
async function buildSasl(auth: AuthenticationConfig, metadata: () => MetadataService, log: Logger): Promise<SaslAuthenticator | null> {
  const methods = enabledAuthenticationMethods(auth);
  const jwt = methods.includes('jwt') ? await JwtVerifier.load(jwtSettings(auth.jwt)) : undefined;
  const scram = methods.some((m) => m.startsWith('scram')) ? scramMechanisms(auth) : [];
  const plain = methods.includes('plain');
  if (jwt === undefined && scram.length === 0 && !plain) return null;
  const sasl = new SaslAuthenticator({
    ...(jwt === undefined ? {} : { jwt }),
    scram,
    plain,
    credential: (user, mechanism) => metadata().state.scramCredential(user, ScramMechanism[mechanism]),
    fakeKey: randomBytes(32),
  });
  log.info({ mechanisms: sasl.mechanisms, ...(jwt ? { issuer: auth.jwt.issuer, audience: auth.jwt.audience, keyFile: auth.jwt.keyFile, jwksUrl: auth.jwt.jwksUrl } : {}), certificates: methods.includes('mtls') }, 'SASL authentication on the Kafka listener');
  return sasl;
}
