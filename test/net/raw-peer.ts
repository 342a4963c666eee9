/**
 * A hand-driven end of an inter-broker connection for tests: sends whatever bytes it is told to (a
 * hello of its choosing, garbage, an oversized prefix) and reads frames back with the shared decoder.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/protocol/frame-decoder.ts';
import { PEER_PROTOCOL_VERSION, type Hello } from '../../src/protocol/cluster/handshake.ts';
import { decodePeerFrame, encodeHello, type PeerFrame } from '../../src/protocol/cluster/peer-frames.ts';
import { withTimeout } from '../helpers/timeout.ts';

export class RawPeer {
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 1 << 26 });
  private readonly frames: PeerFrame[] = [];
  private wake: (() => void) | null = null;
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== null; f = this.decoder.next()) this.frames.push(decodePeerFrame(f));
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  /** Sends a hello: broker 1 on the control lane of `cluster`, with `changes`. */
  hello(cluster: string, changes: Partial<Hello> = {}): void {
    this.socket.write(encodeHello({ version: PEER_PROTOCOL_VERSION, cluster, brokerId: 1, incarnationId: 'raw-1', lane: 'control', ...changes }));
  }

  /** The next frame from the other end; fails if the connection closes first or none comes within `ms`. */
  async nextFrame(ms = 5000): Promise<PeerFrame> {
    const waited = async (): Promise<PeerFrame> => {
      for (;;) {
        const frame = this.frames.shift();
        if (frame !== undefined) return frame;
        if (this.isClosed) throw new Error('connection closed before a frame arrived');
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    };
    return withTimeout(waited(), ms, 'waiting for a frame');
  }

  /** Resolves once the other end closed the connection; fails after `ms`. */
  async waitClosed(ms = 5000): Promise<void> {
    await withTimeout(this.closed, ms, 'waiting for the connection to close');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
