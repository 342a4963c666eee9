/**
 * A real OTLP/gRPC trace receiver for tests: a gRPC server (@grpc/grpc-js) serving
 * opentelemetry.proto.collector.trace.v1.TraceService/Export on 127.0.0.1, decoding each
 * ExportTraceServiceRequest with a small protobuf wire-format reader (field numbers from the OTLP
 * trace protocol: ResourceSpans, ScopeSpans, Span, KeyValue, AnyValue, Link, Status).
 */
import * as grpc from '@grpc/grpc-js';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  resource: Record<string, string | number | boolean>;
}

interface Field {
  no: number;
  wire: number;
  /** varint (as bigint), fixed64/fixed32 bytes, or length-delimited bytes */
  value: bigint | Buffer;
}

function readVarint(b: Buffer, state: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (state.pos >= b.length) throw new Error('truncated varint');
    const byte = b[state.pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 70n) throw new Error('varint too long');
  }
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  const state = { pos: 0 };
  while (state.pos < b.length) {
    const tag = Number(readVarint(b, state));
    const no = tag >>> 3;
    const wire = tag & 7;
    switch (wire) {
      case 0:
        out.push({ no, wire, value: readVarint(b, state) });
        break;
      case 1:
        out.push({ no, wire, value: b.subarray(state.pos, state.pos + 8) });
        state.pos += 8;
        break;
      case 2: {
        const n = Number(readVarint(b, state));
        out.push({ no, wire, value: b.subarray(state.pos, state.pos + n) });
        state.pos += n;
        break;
      }
      case 5:
        out.push({ no, wire, value: b.subarray(state.pos, state.pos + 4) });
        state.pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const bytesOf = (fs: Field[], no: number): Buffer[] => fs.filter((f) => f.no === no && f.wire === 2).map((f) => f.value as Buffer);
const firstBytes = (fs: Field[], no: number): Buffer | undefined => bytesOf(fs, no)[0];
const varintOf = (fs: Field[], no: number): bigint => (fs.find((f) => f.no === no && f.wire === 0)?.value as bigint | undefined) ?? 0n;

function anyValue(b: Buffer): string | number | boolean {
  const fs = fields(b);
  for (const f of fs) {
    if (f.no === 1) return (f.value as Buffer).toString('utf8');
    if (f.no === 2) return (f.value as bigint) !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) return (f.value as Buffer).readDoubleLE(0);
  }
  return '';
}

function keyValues(bs: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const b of bs) {
    const fs = fields(b);
    const key = firstBytes(fs, 1)?.toString('utf8') ?? '';
    const value = firstBytes(fs, 2);
    out[key] = value === undefined ? '' : anyValue(value);
  }
  return out;
}

/** Decodes an ExportTraceServiceRequest into its spans. */
export function decodeExportTraceRequest(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of bytesOf(fields(body), 1)) {
    const rs = fields(resourceSpans);
    const resourceBytes = firstBytes(rs, 1);
    const resource = resourceBytes === undefined ? {} : keyValues(bytesOf(fields(resourceBytes), 1));
    for (const scopeSpans of bytesOf(rs, 2)) {
      for (const spanBytes of bytesOf(fields(scopeSpans), 2)) {
        const s = fields(spanBytes);
        const status = firstBytes(s, 15);
        const statusFields = status === undefined ? [] : fields(status);
        spans.push({
          traceId: firstBytes(s, 1)?.toString('hex') ?? '',
          spanId: firstBytes(s, 2)?.toString('hex') ?? '',
          parentSpanId: firstBytes(s, 4)?.toString('hex') ?? '',
          name: firstBytes(s, 5)?.toString('utf8') ?? '',
          kind: Number(varintOf(s, 6)),
          attributes: keyValues(bytesOf(s, 9)),
          links: bytesOf(s, 13).map((l) => {
            const lf = fields(l);
            return { traceId: firstBytes(lf, 1)?.toString('hex') ?? '', spanId: firstBytes(lf, 2)?.toString('hex') ?? '' };
          }),
          statusCode: Number(varintOf(statusFields, 3)),
          statusMessage: firstBytes(statusFields, 2)?.toString('utf8') ?? '',
          resource,
        });
      }
    }
  }
  return spans;
}

export interface OtlpReceiver {
  readonly port: number;
  readonly spans: ReceivedSpan[];
  /** Export requests received. */
  requests(): number;
  /** Resolves once `predicate(spans)` holds, polling every 50 ms; rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const passThrough = (b: Buffer) => b;

/** Starts a receiver on 127.0.0.1 (`port` 0: any free port). */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const server = new grpc.Server();
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        requests++;
        try {
          spans.push(...decodeExportTraceRequest(call.request));
        } catch (err) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
          return;
        }
        // An empty ExportTraceServiceResponse: everything accepted.
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    spans,
    requests: () => requests,
    async waitFor(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > deadline) throw new Error(`spans not received within ${timeoutMs} ms; have ${spans.length}: ${spans.map((s) => s.name).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
