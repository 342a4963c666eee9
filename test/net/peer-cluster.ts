/**
 * Inter-broker transports on 127.0.0.1 for tests: one per broker id, free ports, captured logs, and
 * everything each one received and reported, so tests can wait on it and check it.
 */
import { randomUUID } from 'node:crypto';
import { clusterFingerprint } from '../../src/protocol/cluster/handshake.ts';
import { PeerTransport, type PeerAddress, type PeerMessage, type PeerState } from '../../src/net/peer-transport.ts';
import type { PeerLimits } from '../../src/net/peer-limits.ts';
import { captureLog, type LogLine } from '../helpers/capture-log.ts';
import { freePort } from '../helpers/ports.ts';

/** Fast reconnects, so restarts are seen quickly. */
export const TEST_LIMITS: Partial<PeerLimits> = { reconnectBaseMs: 10, reconnectMaxMs: 200 };

export interface TestPeer {
  readonly id: number;
  readonly transport: PeerTransport;
  readonly received: { from: number; message: PeerMessage }[];
  readonly states: { peer: number; state: PeerState }[];
  readonly logs: () => LogLine[];
}

export async function addresses(ids: readonly number[]): Promise<PeerAddress[]> {
  const out: PeerAddress[] = [];
  for (const id of ids) out.push({ id, host: '127.0.0.1', grpcPort: await freePort() });
  return out;
}

/** A started transport for broker `id` of `nodes` (or added to them, listening on `listenPort`), recording what it receives and reports. */
export async function startPeer(id: number, nodes: readonly PeerAddress[], limits: Partial<PeerLimits> = TEST_LIMITS, listenPort?: number, expectedUp?: (peer: number) => boolean): Promise<TestPeer> {
  const { log, lines } = captureLog();
  const transport = new PeerTransport(
    { brokerId: id, incarnationId: randomUUID(), cluster: clusterFingerprint(nodes.map((n) => n.id)), nodes, listenHost: '127.0.0.1', limits, ...(listenPort === undefined ? {} : { listenPort }), ...(expectedUp === undefined ? {} : { expectedUp }) },
    log,
  );
  const peer: TestPeer = { id, transport, received: [], states: [], logs: lines };
  transport.onMessage((from, message) => peer.received.push({ from, message }));
  transport.onPeerState((p, state) => peer.states.push({ peer: p, state }));
  await transport.start();
  return peer;
}

/** Whether `peer` sees every one of `others` up. */
export function sees(peer: TestPeer, others: readonly number[]): boolean {
  const up = new Set(peer.transport.peers().filter((p) => p.state === 'up').map((p) => p.id));
  return others.every((id) => up.has(id));
}
