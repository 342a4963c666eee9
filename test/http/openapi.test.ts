// Goal: docs/openapi.yaml describes exactly what the HTTP port serves: it parses as OpenAPI 3, every
// route the broker builds (admin routes, health, metrics) is in it and every operation in it is a
// route, its references resolve and each path parameter is declared; and a running broker answers
// every documented operation with a route (never "no such route" or "method not allowed").
// Method: parse the file with `yaml`; take the routes from buildAdminApi, the broker's own wiring, and
// the default health and metrics paths; then call each operation on a real broker with placeholder
// parameters and no body (which changes nothing: mutations without a body are refused with 400).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { buildAdminApi } from '../../src/app/admin-api.ts';
import { startBroker } from '../helpers/broker-process.ts';
import { adminCall } from './admin-http.ts';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  parameters?: { $ref?: string; name?: string; in?: string }[];
}
type PathItem = Partial<Record<(typeof METHODS)[number], Operation>> & { parameters?: Operation['parameters'] };

const doc = parse(readFileSync('docs/openapi.yaml', 'utf8')) as { openapi: string; paths: Record<string, PathItem>; components: Record<string, Record<string, unknown>> };
const documented = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`));

test('the OpenAPI file parses, its references resolve and its path parameters are declared', () => {
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  const refs = [...readFileSync('docs/openapi.yaml', 'utf8').matchAll(/\$ref: "#\/components\/(\w+)\/(\w+)"/g)];
  assert.ok(refs.length > 10);
  for (const [, section, name] of refs) assert.ok(doc.components[section!]?.[name!] !== undefined, `#/components/${section}/${name} is not defined`);
  const declared = (p: { $ref?: string; name?: string; in?: string }) => {
    const target = p.$ref === undefined ? p : (doc.components.parameters![p.$ref.split('/').pop()!] as { name: string; in: string });
    return target.in === 'path' ? [target.name] : [];
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    const wanted = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
    for (const m of METHODS) {
      if (item[m] === undefined) continue;
      const names = [...(item.parameters ?? []), ...(item[m]!.parameters ?? [])].flatMap(declared).sort();
      assert.deepEqual(names, wanted, `${m.toUpperCase()} ${path}: path parameters`);
    }
  }
});

test('every route the broker serves is documented, and every documented operation is a route', () => {
  const config = loadConfig({ env: {} });
  const admin = buildAdminApi({ config, authorizer: null, node: () => null });
  const served = [...admin.routes.map((r) => `${r.method} ${r.path}`), ...[config.health.livenessPath, config.health.readinessPath, config.metrics.path].map((p) => `GET ${p}`)];
  assert.equal(new Set(served).size, served.length, 'a route is served twice');
  assert.deepEqual([...served].sort(), [...documented].sort());
});

test('a running broker has a route for every documented operation', { timeout: 120_000 }, async () => {
  const broker = await startBroker();
  try {
    for (const operation of documented) {
      const [method, template] = operation.split(' ') as [string, string];
      const path = template.replace('{id}', '1').replace('{name}', 'openapi-probe').replace('{group}', 'openapi-probe');
      const reply = await adminCall(broker.httpPort, method, path);
      assert.ok(reply.status !== 405 && reply.json?.error !== 'NO_SUCH_ROUTE', `${operation}: ${reply.status} ${reply.text}`);
      if (reply.status >= 400) assert.match(reply.json?.code ?? '', /^SB_ERR_[A-Z_]+$/, `${operation}: ${reply.text}`);
    }
    // Nothing was created by the probes.
    assert.deepEqual((await adminCall(broker.httpPort, 'GET', '/api/v1/topics')).json, []);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});
