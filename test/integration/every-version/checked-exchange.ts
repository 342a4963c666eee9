/**
 * One request of the every-version test and the checks every answer must pass: it arrives for the
 * right correlation id, its header and body decode with the generated decoder of that version with no
 * byte left over, the connection is still open, and its error fields hold exactly what
 * expected-errors.ts lists for this step (0 everywhere else).
 */
import assert from 'node:assert/strict';
import { API_BY_KEY, type ApiKey, type ApiMessages } from '../../../src/protocol/kafka/generated/index.ts';
import type { Input } from '../../../src/protocol/kafka/types.ts';
import type { RawKafka } from '../../helpers/raw-kafka.ts';
import { decodeWholeResponse } from '../../helpers/whole-response.ts';
import { errorFields } from './error-fields.ts';
import { expectedErrors } from './expected-errors.ts';

const RESPONSE_TIMEOUT_MS = 10_000;

export async function checkedExchange<K extends ApiKey>(
  conn: RawKafka,
  apiKey: K,
  version: number,
  body: Input<ApiMessages[K]['request']>,
  step: string,
): Promise<ApiMessages[K]['response']> {
  const what = `${API_BY_KEY[apiKey]!.name} v${version} (${step})`;
  const correlationId = conn.send(apiKey, version, body, `every-version-${step}`);
  const frame = await conn.response(correlationId, RESPONSE_TIMEOUT_MS).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
  const decoded = decodeWholeResponse(apiKey, version, frame, correlationId);
  assert.ok(conn.open, `${what}: the broker closed the connection after answering`);

  const expected = expectedErrors(apiKey, version, step);
  const found = errorFields(decoded);
  for (const [field, codes] of found) {
    const want = expected.get(field) ?? 0;
    assert.deepEqual(codes, codes.map(() => want), `${what}: ${field} is [${codes.join(', ')}], expected ${want} in each`);
  }
  for (const field of expected.keys()) assert.ok(found.has(field), `${what}: the answer has no ${field}`);
  return decoded;
}
