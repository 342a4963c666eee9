// Goal: durability across real crashes. A child process appends and waits for durability; it is
// killed with SIGKILL at a random moment (sometimes during its own startup recovery). After every kill
// the log is reopened and must hold every batch whose durability wait had resolved, byte for byte,
// and nothing else but whole batches exactly as appended (a torn tail is cut, never shown).
// Method: STREAMBUS_CRASH_RUNS kills in total (default 200), cycling through native/direct,
// native/buffered and portable; batch bytes are a pure function of their offset (crash-batches.ts),
// and kill times come from a seeded PRNG (STREAMBUS_CRASH_SEED) printed on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { realClock } from '../../src/io/real/real-clock.ts';
import { createDisk } from '../../src/io/real/select-disk.ts';
import { batchSizeAt, readBaseOffset, readLastOffset } from '../../src/protocol/kafka/record-batch/header.ts';
import { Log } from '../../src/storage/log.ts';
import { CRASH_LOG_OPTIONS, crashBatch } from './crash-batches.ts';
import { tempDir } from './helpers.ts';

const RUNS = Number(process.env['STREAMBUS_CRASH_RUNS'] ?? 200);
const SEED = Number(process.env['STREAMBUS_CRASH_SEED'] ?? 20251127);
const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const CONFIGS = [
  { backend: 'native', ioMode: 'direct' },
  { backend: 'native', ioMode: 'buffered' },
  { backend: 'portable', ioMode: 'buffered' },
] as const;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the child until killed; returns the greatest offset it reported durable (-1 for none). */
function runChild(dir: string, backend: string, ioMode: string, killAfterReadyMs: number | undefined, killAfterSpawnMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, backend, ioMode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let durable = -1;
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => void child.kill('SIGKILL');
    const guard = setTimeout(kill, 10_000); // a child must never outlive its test
    if (killAfterReadyMs === undefined) timer = setTimeout(kill, killAfterSpawnMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('ready') && killAfterReadyMs !== undefined) timer = setTimeout(kill, killAfterReadyMs);
        if (line.startsWith('durable ')) durable = Math.max(durable, Number(line.slice(8)));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal}: ${err}`));
      else resolve(durable);
    });
  });
}

test(`crash: ${RUNS} SIGKILLs never lose a durable batch nor show a torn one (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const random = mulberry32(SEED);
  const dirs = CONFIGS.map(() => tempDir('sb-crash-'));
  const durableSoFar = CONFIGS.map(() => -1);
  let tornTails = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const c = run % CONFIGS.length;
      const { backend, ioMode } = CONFIGS[c]!;
      const dir = dirs[c]!.path;
      const duringStartup = random() < 0.15;
      const durable = await runChild(dir, backend, ioMode, duringStartup ? undefined : Math.floor(random() * 40), Math.floor(random() * 200));
      durableSoFar[c] = Math.max(durableSoFar[c]!, durable);
      const context = `run ${run} (${backend}/${ioMode}, seed ${SEED}, durable up to ${durableSoFar[c]})`;
      const log = await Log.open(dir, { ...CRASH_LOG_OPTIONS, ioMode }, createDisk(backend), realClock);
      if (log.recovery.truncatedBytes > 0) tornTails++;
      try {
        assert.ok(log.endOffset > durableSoFar[c]!, `${context}: log ends at ${log.endOffset}`);
        let offset = log.logStartOffset;
        while (offset < log.endOffset) {
          const r = await log.read(offset, 1 << 20);
          assert.ok(r.buffers.length > 0, `${context}: nothing readable at ${offset}`);
          for (const bytes of r.buffers) {
            for (let at = 0; at < bytes.length; ) {
              const size = batchSizeAt(bytes, at);
              const base = readBaseOffset(bytes, at);
              assert.equal(base, offset, `${context}: batch at ${base}, expected ${offset}`);
              assert.ok(bytes.subarray(at, at + size).equals(crashBatch(base)), `${context}: batch ${base} differs`);
              offset = readLastOffset(bytes, at) + 1;
              at += size;
            }
          }
        }
        assert.equal(offset, log.endOffset, context);
        // Keep the logs small: now and then everything before the end is released.
        if (run % 30 === 29) await log.advanceLogStart(log.endOffset);
      } finally {
        await log.close({ clean: run % 4 === 0 });
      }
    }
    // The recovery path under test must actually have run: unclean tails were found and cut.
    if (RUNS >= 30) assert.ok(tornTails > 0, 'no run needed a tail cut; the test did not exercise recovery');
  } finally {
    for (const d of dirs) d.remove();
  }
});
