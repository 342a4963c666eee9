/**
 * The transaction API of a broker: one TransactionCoordinator per `__transaction_state` partition this
 * broker leads, and a request for a transactional id goes to the coordinator of the id's partition
 * (Kafka's rule, the same as for consumer groups: metadata/offsets-partition.ts). Ids coordinated
 * elsewhere are answered by a standby (NOT_COORDINATOR), so clients look the coordinator up again.
 */
import { offsetsPartitionFor } from '../metadata/offsets-partition.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { DescribedTxn, TransactionCoordinator } from './txn-coordinator.ts';

export class TxnRouter {
  private readonly byPartition = new Map<number, TransactionCoordinator>();

  /** `partitions`: how many partitions `__transaction_state` has (0 while it does not exist). */
  constructor(
    private readonly partitions: () => number,
    private readonly standby: TransactionCoordinator,
  ) {}

  /** Partitions of `__transaction_state` coordinated here. */
  get coordinated(): number[] {
    return [...this.byPartition.keys()].sort((a, b) => a - b);
  }

  add(partition: number, coordinator: TransactionCoordinator): void {
    this.byPartition.get(partition)?.close();
    this.byPartition.set(partition, coordinator);
  }

  remove(partition: number): void {
    this.byPartition.get(partition)?.close();
    this.byPartition.delete(partition);
  }

  has(partition: number): boolean {
    return this.byPartition.has(partition);
  }

  /** The partition of `__transaction_state` holding `transactionalId`. */
  partitionOf(transactionalId: string): number {
    return offsetsPartitionFor(transactionalId, this.partitions());
  }

  coordinatorOf(transactionalId: string): TransactionCoordinator {
    return this.byPartition.get(this.partitionOf(transactionalId)) ?? this.standby;
  }

  /** Every transactional id coordinated here, or an error code when a coordinator is still loading. */
  list(): { errorCode: number; transactions: DescribedTxn[] } {
    const transactions: DescribedTxn[] = [];
    for (const c of this.byPartition.values()) {
      const listed = c.list();
      // A coordinator still loading makes the answer incomplete: say so, as Kafka does. One just closed
      // (leadership moved) holds nothing any more.
      if (listed === KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return { errorCode: listed, transactions: [] };
      if (typeof listed !== 'number') transactions.push(...listed);
    }
    return { errorCode: KafkaErrorCode.NONE, transactions };
  }

  close(): void {
    for (const c of this.byPartition.values()) c.close();
    this.standby.close();
  }
}
