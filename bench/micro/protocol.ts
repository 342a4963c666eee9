/**
 * Micro-benchmark of the Kafka protocol hot path: Produce decode/encode with a 1 MiB batch, Fetch
 * request decode and response encode/decode, varints, and CRC-32C (portable JS against the native addon
 * when build/Release/streambus.node is present). Writes bench/results/micro-protocol.json with the machine,
 * commit and runtime version. Numbers compare only between runs on the same machine.
 *
 * Usage: node lib/bench/micro/protocol.js [--target-ms N] [--out FILE]
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem, platform, arch } from 'node:os';
import { dirname } from 'node:path';
import { decodeRequest, decodeResponse, encodeRequestFrame, encodeResponseFrame } from '../../src/protocol/kafka/codec.ts';
import { buildRecordBatch, readRecords } from '../../src/protocol/kafka/record-batch/index.ts';
import { compress, decompress, loadCompressionCodecs } from '../../src/protocol/kafka/compression/index.ts';
import { Reader } from '../../src/protocol/kafka/reader.ts';
import { Writer } from '../../src/protocol/kafka/writer.ts';
import { crc32c } from '../../src/util/crc32c.ts';

export interface BenchResult {
  name: string;
  nsPerOp: number;
  ops: number;
  /** Payload bytes one operation handles, when meaningful. */
  bytesPerOp?: number;
  mbPerSecond?: number;
}

export interface BenchReport {
  benchmark: 'micro-protocol';
  date: string;
  commit: string;
  runtime: string;
  machine: { cpu: string; cores: number; memoryBytes: number; platform: string; arch: string };
  nativeCrc32c: 'present' | 'absent';
  results: BenchResult[];
}

/** Runs `fn` repeatedly for about `targetMs` (after a short warm-up) and returns ns per call. */
function measure(name: string, targetMs: number, fn: () => unknown, bytesPerOp?: number): BenchResult {
  const warmEnd = performance.now() + Math.min(50, targetMs / 4);
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  let batch = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < targetMs && ops < 50_000_000) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < targetMs / 10) batch *= 2;
  }
  const nsPerOp = (elapsed * 1e6) / ops;
  const r: BenchResult = { name, nsPerOp: Number(nsPerOp.toFixed(1)), ops };
  if (bytesPerOp !== undefined) {
    r.bytesPerOp = bytesPerOp;
    r.mbPerSecond = Number((bytesPerOp / nsPerOp * 1e3).toFixed(1));
  }
  return r;
}

type NativeCrc = (data: Uint8Array, seed?: number, start?: number, end?: number) => number;

function loadNativeCrc(): NativeCrc | undefined {
  const path = new URL('../../build/Release/streambus.node', import.meta.url);
  if (!existsSync(path)) return undefined;
  try {
    const addon = createRequire(import.meta.url)(path.pathname) as { crc32c?: NativeCrc };
    return typeof addon.crc32c === 'function' ? addon.crc32c : undefined;
  } catch {
    return undefined;
  }
}

function gitCommit(): string {
  try {
    return execSync('git rev-parse HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Runs every case; `batchBytes` sizes the record batch (1 MiB for the report, tiny in tests). */
export async function runProtocolBench(targetMs: number, batchBytes = 1024 * 1024): Promise<BenchReport> {
  await loadCompressionCodecs();
  const value = Buffer.alloc(batchBytes - 200, 'v');
  const batch = buildRecordBatch([{ key: Buffer.from('key'), value, timestamp: 1700000000000n }]);
  const results: BenchResult[] = [];

  // Produce v9 (flexible, what recent clients send) with one partition holding the batch.
  const produce = { acks: -1, timeoutMs: 30000, topicData: [{ name: 'events', partitionData: [{ index: 0, records: batch }] }] };
  const produceFrame = Buffer.concat(encodeRequestFrame(0, 9, 1, 'bench', produce)).subarray(4);
  results.push(measure('produce v9 request decode (1 batch)', targetMs, () => decodeRequest(produceFrame), batch.length));
  results.push(measure('produce v9 request encode (records by reference)', targetMs, () => encodeRequestFrame(0, 9, 1, 'bench', produce), batch.length));
  results.push(measure('produce v9 response encode', targetMs, () =>
    encodeResponseFrame(0, 9, 1, { responses: [{ name: 'events', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42n, logAppendTimeMs: -1n, logStartOffset: 0n }] }] })));

  // Fetch v12: request decode; response with 4 partitions of stored batches passed as buffer lists.
  const fetchReq = {
    replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52428800, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: 'events', partitions: [0, 1, 2, 3].map((p) => ({ partition: p, currentLeaderEpoch: 0, fetchOffset: 100n, logStartOffset: -1n, partitionMaxBytes: 1048576 })) }],
    forgottenTopicsData: [], rackId: '',
  };
  const fetchReqFrame = Buffer.concat(encodeRequestFrame(1, 12, 2, 'bench', fetchReq)).subarray(4);
  results.push(measure('fetch v12 request decode (4 partitions)', targetMs, () => decodeRequest(fetchReqFrame)));
  const fetchRes = {
    throttleTimeMs: 0, errorCode: 0, sessionId: 0,
    responses: [{ topic: 'events', partitions: [0, 1, 2, 3].map((p) => ({ partitionIndex: p, errorCode: 0, highWatermark: 1000n, lastStableOffset: 1000n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: [batch] })) }],
  };
  results.push(measure('fetch v12 response encode (4 x 1 batch, no concat)', targetMs, () => encodeResponseFrame(1, 12, 2, fetchRes), 4 * batch.length));
  const fetchResFrame = Buffer.concat(encodeResponseFrame(1, 12, 2, fetchRes)).subarray(4);
  results.push(measure('fetch v12 response decode (4 partitions)', targetMs, () => decodeResponse(1, 12, fetchResFrame), 4 * batch.length));

  // Varints: 1000 mixed-size zigzag values per operation.
  const values = Array.from({ length: 1000 }, (_, i) => ((i * 2654435761) | 0) >> (i % 31));
  const w0 = new Writer(8192);
  for (const v of values) w0.varint(v);
  const varintBytes = w0.toBuffer();
  results.push(measure('varint encode x1000', targetMs, () => {
    const w = new Writer(8192);
    for (let i = 0; i < values.length; i++) w.varint(values[i]!);
    return w.length;
  }));
  results.push(measure('varint decode x1000', targetMs, () => {
    const r = new Reader(varintBytes);
    let s = 0;
    for (let i = 0; i < values.length; i++) s += r.varint();
    return s;
  }));

  // Codecs over a compressible payload of the batch's size (JSON-like text), and reading the records of
  // a compressed batch (what validating a compressed Produce costs).
  const text = Buffer.from(Array.from({ length: Math.ceil(batchBytes / 64) }, (_, i) => `{"id":${i},"user":"u${i % 97}","event":"click"}`.padEnd(64, ' ')).join('')).subarray(0, batchBytes);
  for (const [codec, name] of [[1, 'gzip'], [2, 'snappy'], [3, 'lz4'], [4, 'zstd']] as const) {
    const packed = compress(codec, text);
    results.push(measure(`${name} compress (payload)`, targetMs, () => compress(codec, text), text.length));
    results.push(measure(`${name} decompress (payload)`, targetMs, () => decompress(codec, packed), text.length));
  }
  const zstdBatch = buildRecordBatch(Array.from({ length: 100 }, (_, i) => ({ value: text.subarray(i * (text.length / 100), (i + 1) * (text.length / 100)), timestamp: 1700000000000n })), { compression: 4 });
  results.push(measure('read records of a zstd batch (100 records)', targetMs, () => readRecords(zstdBatch), text.length));

  // CRC-32C over the batch (what produce validation and log recovery pay per batch).
  results.push(measure('crc32c js (batch)', targetMs, () => crc32c(batch), batch.length));
  const native = loadNativeCrc();
  if (native) {
    if (native(batch) !== crc32c(batch)) throw new Error('native crc32c disagrees with the portable one');
    results.push(measure('crc32c native (batch)', targetMs, () => native(batch), batch.length));
  }

  const cpu = cpus();
  return {
    benchmark: 'micro-protocol',
    date: new Date().toISOString(),
    commit: gitCommit(),
    runtime: `node ${process.version}`,
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryBytes: totalmem(), platform: platform(), arch: arch() },
    nativeCrc32c: native ? 'present' : 'absent',
    results,
  };
}

async function main(argv: string[]): Promise<void> {
  let targetMs = 400;
  let out = 'bench/results/micro-protocol.json';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target-ms') targetMs = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i]!;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const report = await runProtocolBench(targetMs);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  for (const r of report.results) console.log(`${r.name.padEnd(52)} ${String(r.nsPerOp).padStart(12)} ns/op${r.mbPerSecond ? `  ${r.mbPerSecond} MB/s` : ''}`);
  console.log(`native crc32c: ${report.nativeCrc32c}; wrote ${out}`);
}

if (process.argv[1] && /bench\/micro\/protocol\.(js|ts)$/.test(process.argv[1])) await main(process.argv.slice(2));
