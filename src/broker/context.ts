/**
 * What every Kafka API handler may use. Built once per broker by the composition root (src/app).
 * Handlers reach storage only through the replication layer's partition API.
 */
import type { SaslAuthenticator } from '../security/sasl.ts';
import type { Authorizer } from '../security/authorizer.ts';
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { ClusterView } from '../replication/cluster-view.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { GroupRouter } from '../groups/group-router.ts';
import type { TxnRouter } from '../transactions/txn-router.ts';
import type { KafkaMetrics } from '../observability/kafka-metrics.ts';
import type { TopicService } from './topic-service.ts';
import type { ClientQuotaEnforcer } from '../tenancy/client-quota-enforcer.ts';
import type { Tenancy } from './tenant-access.ts';
import type { Tracing } from '../observability/tracing.ts';
import type { Clock } from '../io/clock.ts';

export interface BrokerContext {
  /** This broker's id: only for answers about this broker itself (its configs); leaders come from `cluster`. */
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly metadata: MetadataService;
  /** Brokers, the controller, partition leaders and coordinators as this broker knows them. */
  readonly cluster: ClusterView;
  readonly partitions: PartitionManager;
  readonly topics: TopicService;
  readonly groups: GroupRouter;
  /** Transaction coordinators (`__transaction_state`), and `want()` to have that topic created on first use. */
  readonly transactions: { readonly router: TxnRouter; want(): void };
  readonly metrics: KafkaMetrics;
  readonly log: Logger;
  /** SASL on the Kafka listener (security.authentication.method jwt); null when clients need none. */
  readonly sasl: SaslAuthenticator | null;
  /** Access control (security.authorization.enabled); null when every request is allowed. */
  readonly authorizer: Authorizer | null;
  /** Client quotas (AlterClientQuotas) held on this broker. */
  readonly clientQuotas: ClientQuotaEnforcer;
  /** Tenants, their namespaces and quotas (multiTenancy.enabled); null when off. */
  readonly tenancy: Tenancy | null;
  /** Request spans (observability.tracing.enabled); null when tracing is off. */
  readonly tracing: Tracing | null;
  /** Time and timers (injected, so tests and simulations can move time); `now()` is `clock.now()`. */
  readonly clock: Clock;
  /** Milliseconds since the epoch (injected, so tests can move time). */
  now(): number;
}
