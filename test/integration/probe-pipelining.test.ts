// Goal: the version probe of older clients works on every connection. kafka-python (check_version)
// opens a socket, writes ApiVersions v0 and, right behind it, Metadata v0 with an empty topic list,
// then waits for both answers; a broker that closes the socket or answers only one leaves the client
// hanging or guessing. Every one of 200 fresh connections in a row must get both answers, each
// decoding completely, and be served again afterwards; and the broker must not log a "closing
// connection" line per probe.
// Method: one broker process; each connection writes the two requests in one socket write, reads
// the two answers by correlation id, then sends a third request (ApiVersions v0) on the same socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRequestFrame } from '../../src/protocol/kafka/codec.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';
import { decodeWholeResponse } from '../helpers/whole-response.ts';

const CONNECTIONS = 200;
const RESPONSE_TIMEOUT_MS = 5_000;
/** A few lines are fine (other causes, rate-limit summaries); one per probe is the defect. */
const CLOSING_LINES_MAX = 10;
const CLIENT_ID = 'probe-pipelining';

let broker: BrokerProcess;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

/** One probe on a fresh connection; resolves with a description of what went wrong, or null. */
async function probeOnce(): Promise<string | null> {
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const bytes = Buffer.concat([
      ...encodeRequestFrame(API_KEYS.ApiVersions, 0, 1, CLIENT_ID, {}),
      ...encodeRequestFrame(API_KEYS.Metadata, 0, 2, CLIENT_ID, { topics: [] }),
    ]);
    const versionsFrame = conn.response(1, RESPONSE_TIMEOUT_MS);
    const metadataFrame = conn.response(2, RESPONSE_TIMEOUT_MS);
    conn.write(bytes);
    const [versions, metadata] = await Promise.allSettled([versionsFrame, metadataFrame]);
    if (versions.status === 'rejected') return `ApiVersions v0: ${(versions.reason as Error).message}`;
    if (metadata.status === 'rejected') return `Metadata v0 pipelined behind it: ${(metadata.reason as Error).message}`;

    const apiVersions = decodeWholeResponse(API_KEYS.ApiVersions, 0, versions.value, 1);
    assert.equal(apiVersions.errorCode, 0);
    assert.ok(apiVersions.apiKeys.some((k) => k.apiKey === API_KEYS.Metadata && k.minVersion === 0), 'Metadata v0 is advertised');
    const md = decodeWholeResponse(API_KEYS.Metadata, 0, metadata.value, 2);
    assert.deepEqual(md.brokers.map((b) => [b.host, b.port]), [['127.0.0.1', broker.kafkaPort]]);

    const again = conn.response(3, RESPONSE_TIMEOUT_MS);
    conn.write(Buffer.concat(encodeRequestFrame(API_KEYS.ApiVersions, 0, 3, CLIENT_ID, {})));
    assert.equal(decodeWholeResponse(API_KEYS.ApiVersions, 0, await again, 3).errorCode, 0);
    return conn.open ? null : 'closed by the broker after answering';
  } catch (err) {
    return (err as Error).message;
  } finally {
    conn.close();
  }
}

test(`${CONNECTIONS} connections in a row: ApiVersions v0 with Metadata v0 pipelined behind it, both answered`, { timeout: 120_000 }, async () => {
  const linesBefore = closingLines();
  const failures: string[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const problem = await probeOnce();
    if (problem) failures.push(`connection ${i}: ${problem}`);
  }
  const logged = closingLines() - linesBefore;
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${CONNECTIONS} probes failed (first 5 shown); ${logged} "closing connection" lines logged`);
  assert.ok(logged <= CLOSING_LINES_MAX, `the broker logged ${logged} "closing connection" lines for ${CONNECTIONS} probes`);
});

function closingLines(): number {
  return broker.output().match(/closing connection/g)?.length ?? 0;
}
