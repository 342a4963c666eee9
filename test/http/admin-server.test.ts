// Goal: the HTTP server's admin plumbing holds its limits whatever the routes do: at most
// ADMIN_REQUESTS_IN_FLIGHT_MAX requests run at once (the next gets 503 and runs once one finishes), a
// route that throws becomes a JSON 500 with a log line and the server keeps serving, path parameters
// arrive decoded, and a route is matched by method and template only.
// Method: an HttpServer on a free port with test routes (one waits until released), plain fetch calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpServer } from '../../src/http/server.ts';
import { ADMIN_REQUESTS_IN_FLIGHT_MAX, type AdminRoute } from '../../src/http/admin-api.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { captureLog } from '../helpers/capture-log.ts';
import { until } from '../helpers/timeout.ts';

test('in-flight limit, failing routes and decoded parameters', { timeout: 30_000 }, async () => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let waiting = 0;
  const routes: AdminRoute[] = [
    {
      method: 'GET',
      path: '/api/v1/slow',
      async handle() {
        waiting++;
        await released;
        return { status: 200, body: { done: true } };
      },
    },
    { method: 'GET', path: '/api/v1/echo/{name}', handle: async (r) => ({ status: 200, body: { name: r.params.name, offset: 2n ** 40n } }) },
    {
      method: 'POST',
      path: '/api/v1/broken',
      async handle() {
        throw new Error('a bug in a route');
      },
    },
  ];
  const { log, lines } = captureLog();
  const server = new HttpServer(
    { host: '127.0.0.1', port: 0, livenessPath: '/health/live', readinessPath: '/health/ready', metricsPath: '/metrics', healthEnabled: true, metricsEnabled: true },
    createMetrics({ brokerId: 1 }),
    { notReadyReason: () => null },
    log,
    routes,
  );
  const port = await server.start();
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  try {
    const slow = Array.from({ length: ADMIN_REQUESTS_IN_FLIGHT_MAX }, () => fetch(url('/api/v1/slow')));
    await until(() => waiting === ADMIN_REQUESTS_IN_FLIGHT_MAX, 10_000, 'every slow request running');
    const refused = await fetch(url('/api/v1/echo/x'));
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { code: string }).code, 'SB_ERR_UNAVAILABLE');
    assert.equal((await fetch(url('/health/live'))).status, 200, 'health is not limited');
    release();
    for (const r of await Promise.all(slow)) assert.equal(r.status, 200);

    const echoed = await fetch(url('/api/v1/echo/a%20b%2Fc'));
    assert.deepEqual(await echoed.json(), { name: 'a b/c', offset: 2 ** 40 });
    const broken = await fetch(url('/api/v1/broken'), { method: 'POST' });
    assert.equal(broken.status, 500);
    assert.equal(((await broken.json()) as { code: string }).code, 'SB_ERR_UNAVAILABLE');
    assert.ok(lines().some((l) => l.msg === 'admin request failed'));
    assert.equal((await fetch(url('/api/v1/broken'))).status, 405);
    assert.equal((await fetch(url('/api/v1/echo'))).status, 404);
    assert.equal((await fetch(url('/api/v1/echo/x/y'))).status, 404);
    assert.equal((await fetch(url('/api/v1/echo/x'))).status, 200, 'still serving');
  } finally {
    release();
    await server.stop();
  }
});
