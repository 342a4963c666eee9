/** Maps operating errors from the partition log to the Kafka error a client acts on. */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import { StreamBusError } from '../util/errors.ts';

export function kafkaErrorForStorage(err: unknown): { errorCode: number; message: string } {
  if (err instanceof StreamBusError) {
    switch (err.code) {
      case 'SB_ERR_INVALID_BATCH':
      case 'SB_ERR_CORRUPT':
        return { errorCode: KafkaErrorCode.CORRUPT_MESSAGE, message: err.message };
      case 'SB_ERR_DISK_FULL':
      case 'SB_ERR_LOG_DIR_OFFLINE':
      case 'SB_ERR_IO':
        return { errorCode: KafkaErrorCode.KAFKA_STORAGE_ERROR, message: err.message };
      case 'SB_ERR_OFFSET_OUT_OF_RANGE':
        return { errorCode: KafkaErrorCode.OFFSET_OUT_OF_RANGE, message: err.message };
      case 'SB_ERR_NOT_LEADER':
        return { errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, message: err.message };
      case 'SB_ERR_NOT_ENOUGH_REPLICAS':
        return { errorCode: KafkaErrorCode.NOT_ENOUGH_REPLICAS, message: err.message };
      case 'SB_ERR_INVALID_PRODUCER_EPOCH':
        return { errorCode: KafkaErrorCode.INVALID_PRODUCER_EPOCH, message: err.message };
      case 'SB_ERR_RECORD_TOO_LARGE':
        return { errorCode: KafkaErrorCode.MESSAGE_TOO_LARGE, message: err.message };
      case 'SB_ERR_CLOSED':
        return { errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, message: 'partition is closing' };
      default:
        break;
    }
  }
  return { errorCode: KafkaErrorCode.UNKNOWN_SERVER_ERROR, message: err instanceof Error ? err.message : String(err) };
}
