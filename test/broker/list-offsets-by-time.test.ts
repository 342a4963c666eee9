// Goal: ListOffsets by timestamp answers the first record at or after the time, with that record's own
// timestamp, even inside a batch whose records span the time; earliest and latest follow the log.
// Method: a real broker; one batch of records with explicit timestamps, then a later batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker-process.ts';
import { KafkaClient } from '../../src/client/index.ts';

test('ListOffsets by time finds the record, not only its batch', async () => {
  const broker = await startBroker();
  const client = new KafkaClient({ bootstrap: `127.0.0.1:${broker.kafkaPort}`, clientId: 'list-offsets-test' });
  try {
    await client.createTopics([{ name: 'timed', partitions: 1 }]);
    const t0 = 1_700_000_000_000;
    await client.produce('timed', 0, [0, 10, 20, 30].map((d) => ({ value: `v${d}`, timestamp: t0 + d })), { acks: -1 });
    await client.produce('timed', 0, [{ value: 'late', timestamp: t0 + 100 }], { acks: -1 });
    const at = async (timestamp: number) => (await client.listOffsets('timed', [0], { timestamp }))[0]!;
    assert.deepEqual([(await at(t0 + 15)).offset, (await at(t0 + 15)).timestamp], [2n, BigInt(t0 + 20)]);
    assert.equal((await at(t0)).offset, 0n);
    assert.equal((await at(t0 + 31)).offset, 4n);
    assert.equal((await at(t0 + 101)).offset, -1n);
    assert.equal((await client.listOffsets('timed', [0], 'earliest'))[0]!.offset, 0n);
    assert.equal((await client.listOffsets('timed', [0], 'latest'))[0]!.offset, 5n);
  } finally {
    client.close();
    assert.equal(await broker.stop(), 0);
  }
});
