// Goal: producer ids come from blocks allocated through metadata, are never handed out twice, and
// producers seldom wait for an allocation: the next block is allocated ahead, concurrent callers
// share one allocation, and a failed allocation fails only the callers waiting on it (the next call
// tries again).
// Method: ProducerIdBlocks over a scripted submit that counts allocations and can fail or hold.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataCommand, MetadataResult } from '../../src/metadata/cluster-state.ts';
import { PRODUCER_ID_ALLOCATE_TIMEOUT_MS, PRODUCER_ID_BLOCK, PRODUCER_ID_PREFETCH_AT, ProducerIdBlocks } from '../../src/replication/metadata-service.ts';

class ScriptedController {
  next = 0n;
  calls = 0;
  timeouts: number[] = [];
  failNext: MetadataResult | null = null;
  held: (() => void)[] = [];
  hold = false;

  submit = async (cmd: MetadataCommand, timeoutMs: number): Promise<MetadataResult> => {
    assert.equal(cmd.type, 'allocate-producer-ids');
    this.calls++;
    this.timeouts.push(timeoutMs);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failNext !== null) {
      const failure = this.failNext;
      this.failNext = null;
      return failure;
    }
    const first = this.next;
    this.next += BigInt(cmd.type === 'allocate-producer-ids' ? cmd.count : 0);
    return { error: null, firstProducerId: first };
  };

  release(): void {
    this.hold = false;
    for (const go of this.held.splice(0)) go();
  }
}

const drain = () => new Promise((resolve) => setImmediate(resolve));

test('ids are unique across blocks, and the next block is allocated before the current one runs out', async () => {
  const controller = new ScriptedController();
  const blocks = new ProducerIdBlocks(controller.submit);
  const seen = new Set<bigint>();
  const draws = PRODUCER_ID_BLOCK * 3;
  for (let i = 0; i < draws; i++) {
    const id = await blocks.nextProducerId();
    assert.ok(!seen.has(id), `id ${id} handed out twice`);
    seen.add(id);
    // Once fewer than PREFETCH_AT ids are left in the block in use, the next one is on its way.
    const leftInBlock = PRODUCER_ID_BLOCK - 1 - (i % PRODUCER_ID_BLOCK);
    if (leftInBlock < PRODUCER_ID_PREFETCH_AT) {
      await drain();
      assert.equal(controller.calls, Math.floor(i / PRODUCER_ID_BLOCK) + 2, `no block allocated ahead at draw ${i}`);
    }
  }
  assert.equal(seen.size, draws);
  assert.ok(controller.timeouts.every((t) => t === PRODUCER_ID_ALLOCATE_TIMEOUT_MS), 'every allocation is bounded in time');
});

test('concurrent callers share one allocation', async () => {
  const controller = new ScriptedController();
  controller.hold = true;
  const blocks = new ProducerIdBlocks(controller.submit);
  const waiting = Array.from({ length: 5 }, () => blocks.nextProducerId());
  await drain();
  assert.equal(controller.calls, 1);
  controller.release();
  const ids = await Promise.all(waiting);
  assert.deepEqual(ids, [0n, 1n, 2n, 3n, 4n]);
  assert.equal(controller.calls, 1);
});

test('a failed allocation fails its callers with the reason; the next call allocates again', async () => {
  const controller = new ScriptedController();
  controller.failNext = { error: 'NOT_CONTROLLER', message: 'Broker 1 stopped leading the controller before answering.' };
  const blocks = new ProducerIdBlocks(controller.submit);
  await assert.rejects(blocks.nextProducerId(), /producer ids could not be allocated: Broker 1 stopped leading/);
  assert.equal(await blocks.nextProducerId(), 0n);
  assert.equal(controller.calls, 2);
});
