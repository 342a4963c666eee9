/**
 * Fuzzes the request decoder (and the record batch reader) with mutated and random frames, and the
 * Raft peer-message decoders (src/protocol/cluster/raft-codec.ts) with mutated and random bodies.
 *
 * Usage: node lib/scripts/fuzz.js [--count N] [--seed S]   (default 1,000,000 frames, seed from the clock;
 * a tenth as many Raft bodies)
 *
 * Contract under test: decodeRequest returns a value or throws a StreamBusError (SB_ERR_PROTOCOL or
 * SB_ERR_UNSUPPORTED_VERSION); the Raft body decoders return messages or throw SB_ERR_PEER_PROTOCOL; readRecords returns records or throws SB_ERR_INVALID_BATCH. Nothing else
 * may escape, no single decode may take long (no loops), and memory must stay flat (no allocation driven
 * by a length field). The seed is printed so any failure replays with --seed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRequest } from '../src/protocol/kafka/codec.ts';
import { readRecords, splitBatches } from '../src/protocol/kafka/record-batch/index.ts';
import { loadCompressionCodecs } from '../src/protocol/kafka/compression/index.ts';
import { API_BY_KEY, type ProduceRequest } from '../src/protocol/kafka/generated/index.ts';
import { isStreamBusError } from '../src/util/errors.ts';
import { packPlain, unpackPlain } from '../src/protocol/cluster/plain-codec.ts';
import { decodeGroupMessages, decodeHeartbeats, decodeQuiesce, encodeGroupMessages, RAFT_PEER_TYPES, type WireMessage } from '../src/protocol/cluster/raft-codec.ts';

// Far above a GC pause on a busy shared machine (seen: 300 ms), far below a real runaway loop (seen: 25 s).
const SLOW_DECODE_MS = 2000;
const HEAP_LIMIT_BYTES = 1024 * 1024 * 1024;

/** xorshift32: deterministic, seedable, fast. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

export interface FuzzReport {
  seed: number;
  frames: number;
  decoded: number;
  typedErrors: Record<string, number>;
  batches: number;
  failures: string[];
  slowestMs: number;
}

const INTERESTING32 = [0x7fffffff, 0x80000000, 0xffffffff, 0x00000000, 0x00010000, 0x7ffffffe];

function mutate(base: Buffer, rng: Rng): Buffer {
  const f = Buffer.from(base);
  const rounds = 1 + rng.int(4);
  for (let i = 0; i < rounds && f.length > 0; i++) {
    const at = rng.int(f.length);
    switch (rng.int(7)) {
      case 0:
        f[at]! ^= 1 << rng.int(8);
        break;
      case 1:
        f[at] = [0x00, 0xff, 0x7f, 0x80, 0x01][rng.int(5)]!;
        break;
      case 2:
        if (at + 4 <= f.length) f.writeUInt32BE(INTERESTING32[rng.int(INTERESTING32.length)]!, at);
        break;
      case 3:
        if (at + 2 <= f.length) f.writeUInt16BE([0x7fff, 0x8000, 0xffff, 0][rng.int(4)]!, at);
        break;
      case 4:
        return f.subarray(0, at);
      case 5:
        f[at] = rng.int(256);
        break;
      default:
        // A varint run: continuation bits everywhere.
        for (let k = at; k < Math.min(f.length, at + 6); k++) f[k] = 0x80 | rng.int(128);
        break;
    }
  }
  return f;
}

/** A frame with a plausible header (so that every API's decoder is reached) and a random body. */
function randomFrame(rng: Rng): Buffer {
  const keys = API_BY_KEY.flatMap((a) => (a ? [a] : []));
  const api = keys[rng.int(keys.length)]!;
  const version = api.minVersion + rng.int(api.maxVersion - api.minVersion + 1);
  const body = Buffer.allocUnsafe(rng.int(64));
  for (let i = 0; i < body.length; i++) body[i] = rng.int(4) === 0 ? 0xff : rng.int(4) === 0 ? 0 : rng.int(256);
  const head = Buffer.alloc(10);
  head.writeInt16BE(api.apiKey, 0);
  head.writeInt16BE(version, 2);
  head.writeInt32BE(rng.next() | 0, 4);
  head.writeInt16BE(rng.int(3) - 1, 8);
  return Buffer.concat([head, body]);
}

export function loadCorpus(dir = 'test/protocol/fixtures'): Buffer[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.bin'))
    .sort()
    .map((n) => readFileSync(join(dir, n)));
}

function batchesOf(corpus: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const frame of corpus) {
    try {
      const { header, body } = decodeRequest(frame);
      if (header.apiKey !== 0) continue;
      for (const t of (body as ProduceRequest).topicData) {
        for (const p of t.partitionData) {
          if (p.records) for (const { start, end } of splitBatches(p.records)) out.push(Buffer.from(p.records.subarray(start, end)));
        }
      }
    } catch {
      // A corpus frame that does not decode is not a batch source.
    }
  }
  return out;
}

/** Runs `count` frames; every tenth one also feeds a mutated record batch to readRecords. */
export function fuzz(count: number, seed: number, corpus: Buffer[], progress = false): FuzzReport {
  const rng = new Rng(seed);
  const batches = batchesOf(corpus);
  const report: FuzzReport = { seed, frames: 0, decoded: 0, typedErrors: {}, batches: 0, failures: [], slowestMs: 0 };
  const note = (e: unknown, allowed: string[], what: string) => {
    if (isStreamBusError(e) && allowed.includes(e.code)) report.typedErrors[e.code] = (report.typedErrors[e.code] ?? 0) + 1;
    else if (report.failures.length < 20) report.failures.push(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
  for (let i = 0; i < count; i++) {
    const frame = rng.int(4) === 0 || corpus.length === 0 ? randomFrame(rng) : mutate(corpus[rng.int(corpus.length)]!, rng);
    const t0 = performance.now();
    try {
      decodeRequest(frame);
      report.decoded++;
    } catch (e) {
      note(e, ['SB_ERR_PROTOCOL', 'SB_ERR_UNSUPPORTED_VERSION'], `frame ${i} (${frame.subarray(0, 16).toString('hex')})`);
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) report.slowestMs = ms;
    if (ms > SLOW_DECODE_MS && report.failures.length < 20) report.failures.push(`frame ${i} took ${ms.toFixed(0)} ms`);
    report.frames++;
    if (i % 10 === 0 && batches.length > 0) {
      const batch = mutate(batches[rng.int(batches.length)]!, rng);
      const b0 = performance.now();
      try {
        readRecords(batch, 4 * 1024 * 1024);
      } catch (e) {
        note(e, ['SB_ERR_INVALID_BATCH'], `batch at frame ${i}`);
      }
      const bms = performance.now() - b0;
      if (bms > report.slowestMs) report.slowestMs = bms;
      if (bms > SLOW_DECODE_MS && process.env.STREAMBUS_FUZZ_DUMP) writeFileSync(`${process.env.STREAMBUS_FUZZ_DUMP}/slow-batch-${i}.bin`, batch);
      if (bms > SLOW_DECODE_MS && report.failures.length < 20) {
        report.failures.push(`batch at frame ${i} (codec ${batch.length > 22 ? batch.readInt16BE(21) & 7 : '?'}, ${batch.length} bytes) took ${bms.toFixed(0)} ms`);
      }
      report.batches++;
    }
    if (progress && i > 0 && i % 100000 === 0) console.error(`fuzz: ${i} frames, ${report.failures.length} failures`);
    if (i % 50000 === 0 && process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers > HEAP_LIMIT_BYTES) {
      report.failures.push(`memory above ${HEAP_LIMIT_BYTES} bytes at frame ${i}`);
      break;
    }
  }
  return report;
}

export interface RaftFuzzReport {
  seed: number;
  bodies: number;
  decoded: number;
  typedErrors: Record<string, number>;
  failures: string[];
}

const neutral = { logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: null, leaderTransfer: false } as const;

/** Valid Raft transport bodies of each kind, to mutate. */
function raftCorpus(): { type: number; bytes: Buffer }[] {
  const data = (n: number) => Buffer.alloc(n, 0x61);
  const app: WireMessage = { ...neutral, type: 'app', from: 1, to: 2, term: 5, logTerm: 4, index: 9, commit: 8, entries: [{ term: 5, index: 10, type: 0, data: data(7) }, { term: 5, index: 11, type: 1, data: data(3) }] };
  const resp: WireMessage = { ...neutral, type: 'appResp', from: 2, to: 1, term: 5, index: 9, reject: true, rejectHint: 7, logTerm: 3 };
  const vote: WireMessage = { ...neutral, type: 'vote', from: 3, to: 1, term: 6, logTerm: 5, index: 11, leaderTransfer: true };
  const snapshot: WireMessage = { ...neutral, type: 'snapshot', from: 1, to: 3, term: 5, snapshot: { metadata: { index: 20, term: 4, confState: { voters: [1, 2, 3], learners: [4] } }, data: data(12) } };
  return [
    { type: RAFT_PEER_TYPES.messages, bytes: packPlain(encodeGroupMessages([{ groupId: 7, messages: [app, resp] }, { groupId: 0, messages: [vote, snapshot] }])) },
    { type: RAFT_PEER_TYPES.heartbeats, bytes: packPlain([1, 0, 5, 8, 2, 1, 6, 0, 2147483647, 0, 1, 0]) },
    { type: RAFT_PEER_TYPES.quiesce, bytes: packPlain([1, 5, 8, 2, 6, 0, 2147483647, 1, 2 ** 40]) },
  ];
}

/** Decodes `count` mutated and random Raft bodies; only SB_ERR_PEER_PROTOCOL may escape. */
export function fuzzRaft(count: number, seed: number): RaftFuzzReport {
  const rng = new Rng(seed);
  const corpus = raftCorpus();
  const report: RaftFuzzReport = { seed, bodies: 0, decoded: 0, typedErrors: {}, failures: [] };
  for (let i = 0; i < count; i++) {
    const base = corpus[rng.int(corpus.length)]!;
    let bytes: Buffer;
    if (rng.int(8) === 0) {
      bytes = Buffer.allocUnsafe(rng.int(48));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(256);
    } else {
      bytes = mutate(base.bytes, rng);
    }
    const type = rng.int(4) === 0 ? corpus[rng.int(corpus.length)]!.type : base.type;
    try {
      const body = unpackPlain(bytes);
      if (type === RAFT_PEER_TYPES.heartbeats) decodeHeartbeats(body, 1, 2);
      else if (type === RAFT_PEER_TYPES.quiesce) decodeQuiesce(body);
      else decodeGroupMessages(body);
      report.decoded++;
    } catch (e) {
      if (isStreamBusError(e, 'SB_ERR_PEER_PROTOCOL')) report.typedErrors[e.code] = (report.typedErrors[e.code] ?? 0) + 1;
      else if (report.failures.length < 20) report.failures.push(`raft body ${i} (${bytes.subarray(0, 16).toString('hex')}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    report.bodies++;
  }
  return report;
}

async function main(argv: string[]): Promise<void> {
  let count = 1_000_000;
  let seed = Date.now() >>> 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--count') count = Number(argv[++i]);
    else if (argv[i] === '--seed') seed = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  await loadCompressionCodecs();
  console.log(`fuzz: ${count} frames, seed ${seed}`);
  const t0 = performance.now();
  const report = fuzz(count, seed, loadCorpus(), true);
  console.log(JSON.stringify({ ...report, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) }, null, 2));
  const raft = fuzzRaft(Math.ceil(count / 10), seed);
  console.log(JSON.stringify(raft, null, 2));
  if (report.failures.length > 0 || raft.failures.length > 0) {
    console.error(`fuzz: FAILED; replay with --seed ${seed}`);
    process.exit(1);
  }
}

if (process.argv[1] && /scripts\/fuzz\.(js|ts)$/.test(process.argv[1])) await main(process.argv.slice(2));
