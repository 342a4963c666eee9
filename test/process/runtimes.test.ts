// Goal: the broker runs from source under Bun and Deno as well as Node: it becomes ready, answers
// liveness, and its Kafka listener answers ApiVersions; SIGTERM stops it with exit code 0.
// Method: start src/main.ts with each runtime installed by npm (their platform packages), probe
// over loopback. A runtime that is not installed fails the test: npm ci installs both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type Runtime } from '../helpers/broker-process.ts';
import { apiVersionsProbe } from '../helpers/kafka-probe.ts';

for (const runtime of ['bun', 'deno'] as Runtime[]) {
  test(`${runtime}: ready, live, ApiVersions answered, SIGTERM exits 0`, async () => {
    const broker = await startBroker({ runtime, readyTimeoutMs: 30_000 });
    try {
      const live = await fetch(`http://127.0.0.1:${broker.httpPort}/health/live`);
      assert.equal(live.status, 200);
      const apis = await apiVersionsProbe(broker.kafkaPort);
      assert.ok(apis.has(18), 'ApiVersions lists itself');
      assert.ok(apis.has(0), 'Produce is advertised');
    } finally {
      assert.equal(await broker.stop(), 0, broker.output());
    }
  });
}
