/**
 * Transaction markers between brokers: a coordinator asks a partition's leader to write a marker
 * (protocol/cluster/txn-marker-codec.ts), and answers such requests from other coordinators by writing
 * the marker here. An unanswered request ends with REQUEST_TIMED_OUT after `timeoutMs`, one the channel
 * dropped (the leader unreachable) at once with NOT_LEADER_OR_FOLLOWER: the writer retries both.
 */
import type { Clock, TimerHandle } from '../io/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import { decodeTxnMarker, decodeTxnMarkerAnswer, encodeTxnMarker, encodeTxnMarkerAnswer, MSG_TXN_MARKER, MSG_TXN_MARKER_ANSWER } from '../protocol/cluster/txn-marker-codec.ts';
import type { PeerChannel } from '../replication/peer-channel.ts';
import type { MarkerWrite } from './txn-marker-writer.ts';

export interface TxnMarkerChannelOptions {
  readonly channel: Pick<PeerChannel, 'send' | 'onMessage'>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Writes a marker to a partition this broker leads; resolves with the Kafka error code. */
  readonly writeHere: (marker: MarkerWrite, topic: string, partition: number) => Promise<number>;
  readonly timeoutMs: number;
  readonly random: () => number;
}

interface Pending {
  readonly to: number;
  readonly timer: TimerHandle;
  readonly resolve: (errorCode: number) => void;
}

export class TxnMarkerChannel {
  private readonly pending = new Map<number, Pending>();
  private nextRequestId: number;

  constructor(private readonly options: TxnMarkerChannelOptions) {
    this.nextRequestId = 1 + Math.floor(options.random() * 2 ** 40);
    options.channel.onMessage((from, message) => {
      if (message.type === MSG_TXN_MARKER) this.onRequest(from, message.body);
      else if (message.type === MSG_TXN_MARKER_ANSWER) this.onAnswer(from, message.body);
    });
  }

  /** Asks broker `to` to write the marker on `topic`-`partition`; resolves with the Kafka error code. */
  send(to: number, marker: MarkerWrite, topic: string, partition: number): Promise<number> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = this.options.clock.setTimer(this.options.timeoutMs, () => {
        this.pending.delete(requestId);
        resolve(KafkaErrorCode.REQUEST_TIMED_OUT);
      });
      this.pending.set(requestId, { to, timer, resolve });
      const sent = this.options.channel.send(to, 'control', { type: MSG_TXN_MARKER, body: encodeTxnMarker({ requestId, ...marker, topic, partition }) });
      if (!sent) {
        this.options.clock.clearTimer(timer);
        this.pending.delete(requestId);
        resolve(KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
      }
    });
  }

  /** Ends every wait (the broker stops). */
  stop(): void {
    for (const [id, p] of this.pending) {
      this.options.clock.clearTimer(p.timer);
      this.pending.delete(id);
      p.resolve(KafkaErrorCode.REQUEST_TIMED_OUT);
    }
  }

  private onRequest(from: number, body: unknown): void {
    const request = decodeTxnMarker(body);
    if (request === null) {
      this.options.log.warn({ from }, 'malformed transaction marker request from a broker; dropped');
      return;
    }
    const { requestId, topic, partition, ...marker } = request;
    void this.options.writeHere(marker, topic, partition).then(
      (errorCode) => this.options.channel.send(from, 'control', { type: MSG_TXN_MARKER_ANSWER, body: encodeTxnMarkerAnswer(requestId, errorCode) }),
      (err: unknown) => this.options.log.error({ err, topic, partition }, 'transaction marker write failed'),
    );
  }

  private onAnswer(from: number, body: unknown): void {
    const answer = decodeTxnMarkerAnswer(body);
    if (answer === null) {
      this.options.log.warn({ from }, 'malformed transaction marker answer from a broker; dropped');
      return;
    }
    const p = this.pending.get(answer.requestId);
    if (p === undefined || p.to !== from) return; // late (timed out) or not from whom we asked
    this.pending.delete(answer.requestId);
    this.options.clock.clearTimer(p.timer);
    p.resolve(answer.errorCode);
  }
}
