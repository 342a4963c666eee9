/**
 * The transaction API of a broker: one TransactionCoordinator per `__transaction_state` partition this
 * broker leads, and a request for a transactional id goes to the coordinator of the id's partition
 * (Kafka's rule, the same as for consumer groups: metadata/offsets-partition.ts). Ids coordinated
 * elsewhere are answered by a standby (NOT_COORDINATOR), so clients look the coordinator up again.
 */
import { PartitionCoordinators } from '../groups/partition-coordinators.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { DescribedTxn, TransactionCoordinator } from './txn-coordinator.ts';

export class TxnRouter extends PartitionCoordinators<TransactionCoordinator> {
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
}
