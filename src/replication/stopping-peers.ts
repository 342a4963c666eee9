/**
 * Which brokers are stopping: a broker that begins a graceful stop tells every peer (message type 49,
 * body `[]`, on the control lane), so that nobody hands a group's leadership to it. Without this,
 * brokers stopped together (a whole cluster under `systemctl stop`) hand their groups to each other
 * back and forth until they exit: each transfer goes to a reachable voter, which is stopping too and
 * hands it on (docs/replication.md, "Graceful stop").
 *
 * - announce() marks this broker as stopping and tells every peer; a peer whose link comes up later
 *   (a reconnect during the stop) is told then.
 * - A notice from broker `from` marks it as stopping until its link goes down: a broker that comes
 *   back is another process, not stopping, and a stopping one whose link only blipped tells again.
 * - Best effort like every transport message: a notice lost to a full lane only means that peer may
 *   still hand a group to the stopping broker, which then hands it on, as before.
 */
import type { PeerChannel } from './peer-channel.ts';

/** Message type of the stopping notice (docs/transport.md, "Message types"). */
export const STOPPING_NOTICE_TYPE = 49;

export interface StoppingPeersOptions {
  readonly channel: Pick<PeerChannel, 'send' | 'onMessage' | 'onPeerState'>;
  /** The ids of the other brokers of the cluster. */
  readonly peers: () => readonly number[];
}

export class StoppingPeers {
  private readonly stopping = new Set<number>();
  private announced = false;

  constructor(private readonly options: StoppingPeersOptions) {
    options.channel.onMessage((from, message) => {
      if (message.type === STOPPING_NOTICE_TYPE) this.stopping.add(from);
    });
    options.channel.onPeerState((peer, state) => {
      if (state === 'down') this.stopping.delete(peer);
      else if (this.announced) this.tell(peer);
    });
  }

  /** Whether broker `id` said it is stopping (and its link has not gone down since). */
  has(id: number): boolean {
    return this.stopping.has(id);
  }

  /** This broker is stopping: tells every peer, now and whenever a link comes up from now on. Idempotent. */
  announce(): void {
    if (this.announced) return;
    this.announced = true;
    for (const peer of this.options.peers()) this.tell(peer);
  }

  private tell(peer: number): void {
    this.options.channel.send(peer, 'control', { type: STOPPING_NOTICE_TYPE, body: [] });
  }
}
