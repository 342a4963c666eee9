// Goal: every kind of bad configuration is refused with a message that names the file, the line, the
// key, what was expected and what was found, plus a "did you mean" for unknown keys; all problems are
// reported at once, as one ConfigError with code SB_ERR_CONFIG.
// Method: write small YAML files with one fault each and check the problem fields and the message text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { isStreamBusError, StreamBusError } from '../../src/util/errors.ts';
import { onlyProblem, problemsOf, scratchDir, yamlFile } from './helpers.ts';

test('wrong type: file, line, key, expected and got', () => {
  const file = yamlFile('wrong-type.yaml', 'server:\n  brokerId: 1\n  host: localhost\n  port: abc\n');
  const [p, ...rest] = problemsOf({ file });
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...p }, {
    key: 'server.port', expected: 'an integer between 1 and 65535', got: '"abc"', file, line: 4,
    message: `${file}:4: server.port: expected an integer between 1 and 65535, got "abc"`,
  });
});

test('out of range', () => {
  const p = onlyProblem('server:\n  port: 70000\n');
  assert.equal(p.line, 2);
  assert.match(p.message, /:2: server\.port: expected an integer between 1 and 65535, got 70000$/);
});

test('a float where an integer is expected', () => {
  const p = onlyProblem('logging:\n  maxBackups: 2.5\n');
  assert.match(p.message, /:2: logging\.maxBackups: expected an integer of at least 0, got 2\.5$/);
});

test('unknown key with a did-you-mean among its siblings', () => {
  const text = 'server:\n  port: 9092\n\nstorage:\n  dataDir: /tmp/x\n  syncIntervall: 1s\n';
  const p = onlyProblem(text);
  assert.equal(p.key, 'storage.syncIntervall');
  assert.equal(p.line, 6);
  assert.equal(p.suggestion, 'storage.syncInterval');
  assert.match(p.message, /:6: storage\.syncIntervall: unknown key \(did you mean storage\.syncInterval\?\)$/);
});

test('unknown section, transposed letters and a key at the wrong level get suggestions', () => {
  assert.equal(onlyProblem('storgae:\n  dataDir: x\n').suggestion, 'storage');
  assert.equal(onlyProblem('server:\n  prot: 9092\n').suggestion, 'server.port');
  assert.equal(onlyProblem('dataDir: /srv/data\n').suggestion, 'storage.dataDir');
  assert.equal(onlyProblem('logging:\n  Level: info\n').suggestion, 'logging.level');
});

test('unknown key with nothing close gets no suggestion', () => {
  const p = onlyProblem('server:\n  colour: blue\n');
  assert.equal(p.suggestion, undefined);
  assert.match(p.message, /:2: server\.colour: unknown key$/);
});

test('bad enum value', () => {
  const p = onlyProblem('logging:\n  level: info\n  format: xml\n');
  assert.match(p.message, /:3: logging\.format: expected one of json, pretty, got "xml"$/);
  assert.match(onlyProblem('storage:\n  ioMode: fast\n').message, /storage\.ioMode: expected one of direct, buffered, got "fast"$/);
});

test('bad booleans, durations, sizes and paths', () => {
  assert.match(onlyProblem('metrics:\n  enabled: yes\n').message, /metrics\.enabled: expected true or false, got "yes"$/);
  assert.match(onlyProblem('storage:\n  syncInterval: 1 sec\n').message, /storage\.syncInterval: expected a duration such as 500ms, 1s, 5m, 1h or 7d \(a plain number is milliseconds\), got "1 sec"$/);
  assert.match(onlyProblem('storage:\n  syncInterval: -5\n').message, /got -5$/);
  assert.match(onlyProblem('logging:\n  maxSize: 100XB\n').message, /logging\.maxSize: expected a size such as 512KiB, 100MB or 1GiB \(a plain number is bytes\) of at least 1KiB, got "100XB"$/);
  assert.match(onlyProblem('health:\n  livenessPath: health/live\n').message, /health\.livenessPath: expected an HTTP path starting with "\/", got "health\/live"$/);
  assert.match(onlyProblem('observability:\n  tracing:\n    samplingRate: 1.5\n').message, /:3: observability\.tracing\.samplingRate: expected a number between 0 and 1, got 1\.5$/);
});

test('an empty value, a list or a mapping where a scalar is expected', () => {
  assert.match(onlyProblem('server:\n  port:\n').message, /:2: server\.port: expected an integer between 1 and 65535, got nothing$/);
  assert.match(onlyProblem('server:\n  host: [a, b]\n').message, /server\.host: expected a host name or IP address, got a list$/);
  assert.match(onlyProblem('server:\n  port:\n    value: 1\n').message, /server\.port: expected .*, got a mapping$/);
});

test('a section that is not a mapping', () => {
  const p = onlyProblem('server: 9092\n');
  assert.equal(p.key, 'server');
  assert.match(p.message, /:1: server: expected a mapping of server keys \(brokerId, host, .*\), got 9092$/);
  assert.match(onlyProblem('- a\n- b\n').message, /:1: \(top level\): expected a mapping of sections \(server, storage, .*\), got a list$/);
});

test('YAML syntax errors and duplicate keys name their line', () => {
  const bad = onlyProblem('server:\n\tport: 9092\n');
  assert.equal(bad.key, '');
  assert.equal(bad.line, 2);
  assert.match(bad.message, /broker\.yaml:2: YAML syntax error: Tabs are not allowed as indentation$/);
  assert.match(onlyProblem('server:\n  port: 9092\n  host: "unclosed\n').message, /: YAML syntax error: Missing closing "quote$/);
  assert.match(onlyProblem('server:\n  port: 9092\n   host: x\n').message, /:2: YAML syntax error: /);
  const dup = onlyProblem('server:\n  port: 9092\n  port: 9093\n');
  assert.equal(dup.line, 3);
  assert.match(dup.message, /:3: YAML syntax error: Map keys must be unique/);
});

test('cluster.nodes entries: unknown field, missing field and bad value, each on its own line', () => {
  const text = [
    'cluster:', '  nodes:',
    '    - id: 1', '      host: a', '      port: 9092',
    '    - id: 2', '      hots: b', '      port: 9092',
    '    - id: 3', '      host: c', '      port: 0',
    'server:', '  brokerId: 1',
  ].join('\n');
  const problems = problemsOf({ file: yamlFile('nodes.yaml', text) });
  const byKey = new Map(problems.map((p) => [p.key, p]));
  assert.equal(byKey.get('cluster.nodes[1].hots')?.suggestion, 'cluster.nodes[1].host');
  assert.equal(byKey.get('cluster.nodes[1].hots')?.line, 7);
  assert.match(byKey.get('cluster.nodes[1].host')!.message, /:6: cluster\.nodes\[1\]\.host: expected a host name or IP address, got nothing$/);
  assert.match(byKey.get('cluster.nodes[2].port')!.message, /:11: cluster\.nodes\[2\]\.port: expected an integer between 1 and 65535, got 0$/);
  assert.equal(problems.length, 3);
});

test('duplicate node ids', () => {
  const p = onlyProblem('cluster:\n  nodes:\n    - {id: 1, host: a, port: 1}\n    - {id: 1, host: b, port: 2}\n');
  assert.equal(p.key, 'cluster.nodes[1].id');
  assert.equal(p.line, 4);
});

test('all problems are reported together, in file order, one per line of the message', () => {
  const file = yamlFile('many.yaml', 'server:\n  port: abc\n  httpPrt: 1\nlogging:\n  level: loud\n');
  let error: unknown;
  try {
    loadConfig({ file, env: {} });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  assert.ok(error instanceof StreamBusError);
  assert.ok(isStreamBusError(error, 'SB_ERR_CONFIG'));
  assert.equal(error.code, 'SB_ERR_CONFIG');
  assert.deepEqual(error.problems.map((p) => p.line), [2, 3, 5]);
  assert.deepEqual(error.message.split('\n'), error.problems.map((p) => p.message));
  assert.match(error.message, /httpPrt: unknown key \(did you mean server\.httpPort\?\)/);
});

test('an unreadable file is named', () => {
  const missing = join(scratchDir(), 'nope.yaml');
  const [p, ...rest] = problemsOf({ file: missing });
  assert.equal(rest.length, 0);
  assert.equal(p!.file, missing);
  assert.match(p!.message, /nope\.yaml: cannot read the configuration file \(ENOENT: no such file or directory\)$/);
  assert.match(problemsOf({ file: scratchDir() })[0]!.message, /EISDIR/);
});

test('a secret value is never echoed in a message', () => {
  const p = onlyProblem('security:\n  tls:\n    keyPassphrase: 123456\n');
  assert.equal(p.got, '"********"');
  assert.ok(!p.message.includes('123456'));
});

test('an empty file and a file of comments give the defaults', () => {
  assert.equal(loadConfig({ file: yamlFile('empty.yaml', ''), env: {} }).server.port, 9092);
  assert.equal(loadConfig({ file: yamlFile('comments.yaml', '# nothing\nserver:\n  # port: 1\n'), env: {} }).server.port, 9092);
});
