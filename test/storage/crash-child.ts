// Child process of crash.test.ts (not a test itself): opens the log in argv[2] and appends batches
// whose content is a function of their base offset, a few at a time, waiting for durability, and
// prints "durable <lastOffset>" after each resolved wait, until the parent kills it with SIGKILL.
import { writeSync } from 'node:fs';
import { realClock } from '../../src/io/real/real-clock.ts';
import { createDisk } from '../../src/io/real/select-disk.ts';
import { Log } from '../../src/storage/log.ts';
import { CRASH_LOG_OPTIONS, crashBatch } from './crash-batches.ts';

const [dir, backend, ioMode] = process.argv.slice(2) as [string, 'native' | 'portable', 'direct' | 'buffered'];
const log = await Log.open(dir, { ...CRASH_LOG_OPTIONS, ioMode }, createDisk(backend), realClock);
writeSync(1, `ready ${log.endOffset}\n`);
for (;;) {
  const waits: Promise<number>[] = [];
  const inFlight = 1 + (log.endOffset % 4);
  for (let i = 0; i < inFlight; i++) {
    const r = log.append(crashBatch(log.endOffset), { leaderEpoch: 3 });
    waits.push(log.waitDurable(r.lastOffset).then(() => r.lastOffset));
  }
  for (const w of waits) writeSync(1, `durable ${await w}\n`);
}
