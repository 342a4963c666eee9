// Goal: the transaction gauges of a broker's registry read the coordinators once per scrape (one
// listing of every transactional id for both gauges, not one each), show what the coordinators hold,
// and every series of the scrape appears once; the next scrape reads afresh.
// Method: registerTransactionMetrics on its own registry over a router stand-in that counts its
// listings; the text exposition scraped twice; the series checked with test/helpers/metric-series.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerTransactionMetrics } from '../../src/app/transaction-metrics.ts';
import type { TxnRouter } from '../../src/transactions/txn-router.ts';
import type { DescribedTxn } from '../../src/transactions/txn-coordinator.ts';
import { repeatedSeries } from '../helpers/metric-series.ts';

function txn(transactionalId: string, state: DescribedTxn['state']): DescribedTxn {
  return { transactionalId, state, producerId: 1n, producerEpoch: 0, timeoutMs: 60_000, startMs: -1, partitions: [] };
}

test('one listing per scrape for both gauges; each series once; the next scrape reads afresh', async () => {
  const registry = new Registry();
  registry.setDefaultLabels({ broker_id: '1' });
  let listings = 0;
  let transactions = [txn('a', 'Ongoing'), txn('b', 'CompleteCommit'), txn('c', 'PrepareAbort')];
  const router = {
    list() {
      listings++;
      return { errorCode: 0, transactions };
    },
  } as unknown as TxnRouter;
  const metrics = registerTransactionMetrics(registry, () => router);
  metrics.ended(true, 20);
  metrics.ended(false, 30);

  const first = await registry.metrics();
  assert.equal(listings, 1);
  assert.match(first, /^streambus_transactional_ids\{broker_id="1"\} 3$/m);
  assert.match(first, /^streambus_transactions_ongoing\{broker_id="1"\} 2$/m);
  assert.match(first, /^streambus_transactions_ended_total\{result="commit",broker_id="1"\} 1$/m);
  assert.deepEqual(repeatedSeries(first), []);

  transactions = [txn('a', 'CompleteCommit')];
  const second = await registry.metrics();
  assert.equal(listings, 2);
  assert.match(second, /^streambus_transactional_ids\{broker_id="1"\} 1$/m);
  assert.match(second, /^streambus_transactions_ongoing\{broker_id="1"\} 0$/m);
  assert.deepEqual(repeatedSeries(second), []);
});

test('the series check finds a series or a family listed twice, whatever the order of its labels', () => {
  const text = ['# TYPE m gauge', 'm{a="1",b="2"} 1', 'm{b="2",a="1"} 1', 'm{a="2",b="2"} 1', '# TYPE m gauge', 'n 1', 'n 2', ''].join('\n');
  assert.deepEqual(repeatedSeries(text), ['family m x2', 'm{a="1",b="2"} x2', 'n x2']);
});
