/**
 * The life of a coordinator of one internal-topic partition, the same for the group coordinators
 * (`__consumer_offsets`) and the transaction coordinators (`__transaction_state`): `new`, `loading`
 * while it replays its partition, `active`, then `closed` when leadership moves or the broker stops, or
 * `failed` when the replay did; `elsewhere` is the standby answering for keys another broker coordinates.
 */
import { KafkaErrorCode } from './error-codes.ts';

export type CoordinatorPhase = 'new' | 'loading' | 'active' | 'failed' | 'closed' | 'elsewhere';

/**
 * The Kafka error a coordinator in `phase` answers requests with, or null when it serves them.
 * `stopped` is the answer once it failed or closed, where Kafka's two coordinators differ: its group
 * coordinator answers COORDINATOR_NOT_AVAILABLE once it is no longer active, its transaction state
 * manager NOT_COORDINATOR for a partition it is leaving. Clients look the coordinator up again on both.
 */
export function coordinatorPhaseError(phase: CoordinatorPhase, stopped: typeof KafkaErrorCode.COORDINATOR_NOT_AVAILABLE | typeof KafkaErrorCode.NOT_COORDINATOR): number | null {
  switch (phase) {
    case 'active':
      return null;
    case 'new':
    case 'loading':
      return KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    case 'failed':
    case 'closed':
      return stopped;
    case 'elsewhere':
      return KafkaErrorCode.NOT_COORDINATOR;
  }
}
