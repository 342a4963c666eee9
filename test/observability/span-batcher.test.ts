// Goal: SpanBatcher never exports inside the span.end() that fills a batch (the request path), sends
// full batches on the next turn and partial ones after its delay, keeps one export in flight, gives
// up on an exporter that never answers, and flushes everything at shutdown.
// Method: a recording exporter and fake spans (only spanContext is read); delays of a few ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanBatcher } from '../../src/observability/span-batcher.ts';

const span = (sampled = true) => ({ spanContext: () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: sampled ? 1 : 0 }) }) as unknown as ReadableSpan;

function recording(answer = true): SpanExporter & { batches: number[]; shutdowns: number } {
  const e = {
    batches: [] as number[],
    shutdowns: 0,
    export: (spans: ReadableSpan[], done: (r: { code: number }) => void) => {
      e.batches.push(spans.length);
      if (answer) done({ code: 0 });
    },
    shutdown: async () => void e.shutdowns++,
  };
  return e;
}

test('a full batch goes out on the next turn, never inside onEnd; a partial one after the delay', async () => {
  const exporter = recording();
  const batcher = new SpanBatcher(exporter, { batchMax: 4, delayMs: 30, exportTimeoutMs: 1_000 });
  for (let i = 0; i < 9; i++) batcher.onEnd(span());
  batcher.onEnd(span(false)); // unsampled: never exported
  assert.deepEqual(exporter.batches, [], 'nothing exported synchronously');
  await turn();
  await turn();
  assert.deepEqual(exporter.batches, [4, 4]);
  await sleep(80);
  assert.deepEqual(exporter.batches, [4, 4, 1]);
  await batcher.shutdown();
  assert.equal(exporter.shutdowns, 1);
});

test('an exporter that never answers is given up on; shutdown flushes the rest', async () => {
  const exporter = recording(false);
  const batcher = new SpanBatcher(exporter, { batchMax: 2, delayMs: 10_000, exportTimeoutMs: 20 });
  for (let i = 0; i < 5; i++) batcher.onEnd(span());
  await turn();
  assert.deepEqual(exporter.batches, [2], 'one export in flight at a time');
  await batcher.shutdown();
  assert.deepEqual(exporter.batches, [2, 2, 1]);
  batcher.onEnd(span());
  await sleep(30);
  assert.deepEqual(exporter.batches, [2, 2, 1], 'nothing after shutdown');
});
