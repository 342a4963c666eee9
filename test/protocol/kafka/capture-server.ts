// Test helper (not a test): a tiny Kafka endpoint on 127.0.0.1 that answers just enough for a real client
// to produce one batch (ApiVersions with the full schema table, Metadata naming itself as the leader of
// every requested topic, Produce with success), and records every request frame it receives.
import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../../src/protocol/frame-decoder.ts';
import { decodeRequest, encodeResponseFrame, peekRequestHeader } from '../../../src/protocol/kafka/codec.ts';
import { API_BY_KEY } from '../../../src/protocol/kafka/generated/index.ts';
import type { MetadataRequest, ProduceRequest } from '../../../src/protocol/kafka/generated/index.ts';

export interface Captured {
  apiKey: number;
  apiVersion: number;
  clientId: string | null;
  /** The request frame without its size prefix, copied. */
  frame: Buffer;
}

// Telemetry (71/72) and the KIP-848 group APIs (68/69) change client behaviour merely by being listed.
const NOT_ADVERTISED = new Set([68, 69, 71, 72]);
const TOPIC_ID = '6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b';

export class CaptureServer {
  readonly captured: Captured[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const frames = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
    socket.on('data', (chunk: Buffer) => {
      frames.push(chunk);
      try {
        for (let f = frames.next(); f !== null; f = frames.next()) this.onFrame(socket, Buffer.from(f));
      } catch {
        socket.destroy();
      }
    });
  }

  private onFrame(socket: Socket, frame: Buffer): void {
    const peek = peekRequestHeader(frame);
    const req = decodeRequest(frame);
    this.captured.push({ apiKey: peek.apiKey, apiVersion: peek.apiVersion, clientId: req.header.clientId, frame });
    const reply = (chunks: Buffer[]) => socket.write(Buffer.concat(chunks));
    switch (peek.apiKey) {
      case 18: {
        const apiKeys = API_BY_KEY.flatMap((a) => (a && !NOT_ADVERTISED.has(a.apiKey) ? [{ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion }] : []));
        reply(encodeResponseFrame(18, peek.apiVersion, peek.correlationId, { errorCode: 0, apiKeys }));
        break;
      }
      case 3: {
        const body = req.body as MetadataRequest;
        const names = body.topics === null || body.topics.length === 0 ? ['t'] : body.topics.map((t) => t.name ?? 't');
        reply(
          encodeResponseFrame(3, peek.apiVersion, peek.correlationId, {
            brokers: [{ nodeId: 0, host: '127.0.0.1', port: this.port, rack: null }],
            clusterId: 'capture',
            controllerId: 0,
            topics: names.map((name) => ({
              errorCode: 0,
              name,
              topicId: TOPIC_ID,
              isInternal: false,
              partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }],
            })),
          }),
        );
        break;
      }
      case 0: {
        const body = req.body as ProduceRequest;
        if (body.acks === 0) break;
        reply(
          encodeResponseFrame(0, peek.apiVersion, peek.correlationId, {
            responses: body.topicData.map((t) => ({
              name: t.name,
              partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n })),
            })),
          }),
        );
        break;
      }
      default:
        // Nothing else is needed to produce; leaving the request unanswered makes the client time out.
        break;
    }
  }
}
