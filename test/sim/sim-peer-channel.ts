// The inter-broker channel of one broker incarnation in the partition simulation: a PeerChannel
// (src/replication/peer-channel.ts) that MessagePacks every body as the real transport does, size
// limit included, and hands it to SimNetwork, whose loss, delay, duplication and cut links apply.
// A message to a broker that is down is refused (no connection), as the real channel refuses it.
// Link states come from the simulation: a peer's crash and start, as the transport reports them.
import { packPlain, unpackPlain } from '../../src/protocol/cluster/plain-codec.ts';
import type { ChannelMessage, PeerChannel, PeerLane, PeerLinkState } from '../../src/replication/peer-channel.ts';
import { StreamBusError } from '../../src/util/errors.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import type { SimNetwork } from './sim-network.ts';

export interface ChannelEnv {
  readonly clock: ManualClock;
  readonly network: SimNetwork;
  /** Whether broker `id` is up and listening. */
  isUp(id: number): boolean;
  /** Hands the encoded message to broker `to`'s current incarnation. */
  deliver(from: number, to: number, bytes: Buffer): void;
}

export class SimPeerChannel implements PeerChannel {
  closed = false;
  private readonly handlers: ((from: number, message: ChannelMessage) => void)[] = [];
  private readonly stateHandlers: ((peer: number, state: PeerLinkState, restarted?: boolean) => void)[] = [];

  constructor(
    private readonly id: number,
    readonly maxMessageBytes: number,
    private readonly env: ChannelEnv,
  ) {}

  send(to: number, _lane: PeerLane, message: ChannelMessage): boolean {
    if (to === this.id) throw new Error(`broker ${to} sent a message to itself`);
    const bytes = packPlain([message.type, message.body]);
    if (bytes.length > this.maxMessageBytes) throw new StreamBusError('SB_ERR_PEER_MESSAGE', `message of ${bytes.length} bytes is larger than ${this.maxMessageBytes}`);
    if (this.closed || !this.env.isUp(to)) return false;
    const { clock, network } = this.env;
    for (const delay of network.deliveriesBetween(this.id, to)) {
      clock.setTimer(delay, () => {
        if (!network.isBlocked(this.id, to)) this.env.deliver(this.id, to, bytes);
      });
    }
    return true;
  }

  onMessage(handler: (from: number, message: ChannelMessage) => void): void {
    this.handlers.push(handler);
  }

  onPeerState(handler: (peer: number, state: PeerLinkState, restarted?: boolean) => void): void {
    this.stateHandlers.push(handler);
  }

  /** The simulation's word that the link to `peer` went down (it crashed) or came up (it started). */
  linkChanged(peer: number, state: PeerLinkState): void {
    if (this.closed) return;
    // Up is told when the peer started: always another process.
    for (const handler of this.stateHandlers) handler(peer, state, state === 'up');
  }

  receive(from: number, bytes: Buffer): void {
    if (this.closed) return;
    const [type, body] = unpackPlain(bytes) as [number, unknown];
    for (const handler of this.handlers) handler(from, { type, body });
  }
}
