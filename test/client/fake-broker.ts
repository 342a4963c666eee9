/**
 * A scripted Kafka broker for client tests: decodes each request frame with the protocol codecs and
 * answers with whatever the test's handler returns for that API (a response body, raw frame bytes, or
 * 'close' to drop the connection). Records every request (key, version, body) for assertions.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { decodeRequest, encodeResponseFrame } from '../../src/protocol/kafka/codec.ts';
import { FrameDecoder } from '../../src/protocol/frame-decoder.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../../src/protocol/kafka/framing.ts';
import type { ApiKey } from '../../src/protocol/kafka/generated/index.ts';

export type Answer = object | Buffer | 'close' | 'silent';
export type Handler = (version: number, body: any, nth: number) => Answer; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SeenRequest {
  apiKey: number;
  apiVersion: number;
  body: unknown;
}

export interface FakeBroker {
  port: number;
  seen: SeenRequest[];
  connections: number;
  close(): Promise<void>;
}

export async function startFakeBroker(handlers: Partial<Record<number, Handler>>): Promise<FakeBroker> {
  const sockets = new Set<Socket>();
  const state: FakeBroker = { port: 0, seen: [], connections: 0, close: async () => undefined };
  const counts = new Map<number, number>();
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const frames = new FrameDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      frames.push(chunk);
      for (let frame = frames.next(); frame !== null; frame = frames.next()) {
        const { header, body } = decodeRequest(frame);
        state.seen.push({ apiKey: header.apiKey, apiVersion: header.apiVersion, body });
        const nth = (counts.get(header.apiKey) ?? 0) + 1;
        counts.set(header.apiKey, nth);
        const handler = handlers[header.apiKey];
        const answer = handler ? handler(header.apiVersion, body, nth) : 'close';
        if (answer === 'close') {
          socket.destroy();
          return;
        }
        if (answer === 'silent') continue;
        if (Buffer.isBuffer(answer)) {
          answer.writeInt32BE(header.correlationId, 4);
          socket.write(answer);
        } else {
          for (const part of encodeResponseFrame(header.apiKey as ApiKey, header.apiVersion, header.correlationId, answer as never)) socket.write(part);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.port = typeof address === 'object' && address ? address.port : 0;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

/** ApiVersions answers advertising `ranges` (apiKey -> [min, max]). */
export function apiVersionsAnswer(ranges: Record<number, [number, number]>): object {
  return { errorCode: 0, apiKeys: Object.entries(ranges).map(([k, [min, max]]) => ({ apiKey: Number(k), minVersion: min, maxVersion: max })), throttleTimeMs: 0 };
}

/** A one-broker Metadata answer (node 1 at the fake's port) with the given topics (name -> partitions). */
export function metadataAnswer(port: number, topics: Record<string, number>): object {
  return {
    brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
    clusterId: 'fake-cluster',
    controllerId: 1,
    topics: Object.entries(topics).map(([name, count]) => ({
      errorCode: 0,
      name,
      isInternal: false,
      partitions: Array.from({ length: count }, (_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
    })),
  };
}
