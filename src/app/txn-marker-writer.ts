/**
 * How a transaction coordinator's markers reach the partitions of a transaction: for each partition,
 * written here when this broker leads it, else sent to its leader (txn-marker-channel.ts), and retried
 * with backoff while no leader can take it (an election, a broker down, a request lost), as Kafka's
 * coordinator retries its WriteTxnMarkers until they succeed or it stops coordinating. A partition of a
 * deleted topic needs no marker. A partition that saw a later epoch of the producer refuses the marker
 * (INVALID_PRODUCER_EPOCH): nothing this coordinator writes can land there any more; logged and skipped.
 */
import type { Clock } from '../io/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { ClusterView } from '../replication/cluster-view.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { TxnMarkerRequest, TxnMarkerWriter } from '../transactions/txn-coordinator.ts';
import type { TxnMarkerChannel } from './txn-marker-channel.ts';

/** One partition's marker, as written. */
export interface MarkerWrite {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
}

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

export interface PartitionMarkerWriterOptions {
  readonly metadata: () => MetadataService;
  readonly cluster: () => ClusterView;
  readonly writeHere: (marker: MarkerWrite, topic: string, partition: number) => Promise<number>;
  /** Null on a lone broker: it leads every partition. */
  readonly remote: TxnMarkerChannel | null;
  readonly clock: Clock;
  readonly log: Logger;
}

export class PartitionMarkerWriter implements TxnMarkerWriter {
  constructor(private readonly options: PartitionMarkerWriterOptions) {}

  async write(request: TxnMarkerRequest, cancelled: () => boolean): Promise<void> {
    const marker: MarkerWrite = { producerId: request.producerId, producerEpoch: request.producerEpoch, commit: request.commit, coordinatorEpoch: request.coordinatorEpoch };
    await Promise.all(request.partitions.flatMap((t) => t.partitions.map((p) => this.writeOne(request.transactionalId, marker, t.topic, p, cancelled))));
  }

  private async writeOne(transactionalId: string, marker: MarkerWrite, name: string, index: number, cancelled: () => boolean): Promise<void> {
    let delayMs = FIRST_RETRY_MS;
    let attempts = 0;
    while (!cancelled()) {
      const topic = this.options.metadata().state.topic(name);
      if (topic === undefined || index >= topic.partitions) return; // deleted: nothing left to mark
      const route = this.options.cluster().route(topic, index);
      let code: number;
      if (route.kind === 'leader') code = await this.options.writeHere(marker, name, index);
      else if (route.kind === 'elsewhere' && this.options.remote !== null) code = await this.options.remote.send(route.leader, marker, name, index);
      else code = KafkaErrorCode.LEADER_NOT_AVAILABLE;
      if (code === KafkaErrorCode.NONE) return;
      if (code === KafkaErrorCode.INVALID_PRODUCER_EPOCH) {
        this.options.log.warn({ transactionalId, topic: name, partition: index, producerId: marker.producerId.toString(), producerEpoch: marker.producerEpoch }, 'partition refused the transaction marker: it saw a later producer epoch');
        return;
      }
      attempts++;
      // Said once a while, not on every retry: a partition without a leader may take long to get one.
      if (attempts === 20 || attempts % 200 === 0) this.options.log.warn({ transactionalId, topic: name, partition: index, errorCode: code, attempts }, 'transaction marker not written yet; retrying');
      await new Promise<void>((resolve) => this.options.clock.setTimer(delayMs, resolve));
      delayMs = Math.min(MAX_RETRY_MS, delayMs * 2);
    }
  }
}
