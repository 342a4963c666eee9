// Test helper (not a test): locates Kafka's JSON message definitions beside the checkout and decides what
// to do when they are absent. They live outside the repository (shared/kafka-protocol/messages), so a
// plain clone cannot run the schema-driven tests: those then skip with a printed reason, unless CI or
// STREAMBUS_REQUIRE_TOOLS=1 asks for every check, in which case they fail.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { stripJsonComments, type MessageSpec } from '../../../scripts/gen-protocol.ts';

export const MESSAGES_DIR = process.env.STREAMBUS_KAFKA_MESSAGES ?? '../shared/kafka-protocol/messages';

export function strict(): boolean {
  return process.env.STREAMBUS_REQUIRE_TOOLS === '1' || process.env.CI === 'true';
}

/** True when the test may go on; otherwise it has skipped (with the reason printed) or failed. */
export function needMessages(t: TestContext): boolean {
  if (existsSync(join(MESSAGES_DIR, 'ProduceRequest.json'))) return true;
  const reason = `Kafka message definitions not found at ${MESSAGES_DIR} (set STREAMBUS_KAFKA_MESSAGES)`;
  if (strict()) assert.fail(reason);
  console.log(`# skipped: ${reason}`);
  t.skip(reason);
  return false;
}

export function loadSpecs(): MessageSpec[] {
  return readdirSync(MESSAGES_DIR)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(stripJsonComments(readFileSync(join(MESSAGES_DIR, n), 'utf8'))) as MessageSpec);
}
