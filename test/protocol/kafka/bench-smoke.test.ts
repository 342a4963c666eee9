// Goal: the protocol micro-benchmark keeps working (benchmarks that never run rot); no timing is judged.
// Method: run bench/micro/protocol.ts with a tiny batch and a few milliseconds per case, and check the
// report's shape: every case present with a positive time, machine and commit recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProtocolBench } from '../../../bench/micro/protocol.ts';

test('protocol micro-benchmark runs on tiny inputs', async () => {
  const report = await runProtocolBench(2, 4096);
  const names = report.results.map((r) => r.name);
  for (const want of ['produce v9 request decode', 'produce v9 request encode', 'fetch v12 response encode', 'varint decode', 'crc32c js', 'zstd decompress', 'lz4 decompress']) {
    assert.ok(names.some((n) => n.startsWith(want)), `case ${want}`);
  }
  for (const r of report.results) assert.ok(r.nsPerOp > 0 && r.ops > 0, r.name);
  assert.ok(report.machine.cores > 0);
  assert.match(report.runtime, /^node v/);
  assert.ok(report.nativeCrc32c === 'present' || report.nativeCrc32c === 'absent');
});
