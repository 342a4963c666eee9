// Goal: the portable CRC-32C matches the published check values and is composable via its seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/util/crc32c.ts';

test('check value of "123456789" is 0xE3069283 (RFC 3720)', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('32 zero bytes give 0x8A9136AA (RFC 3720 B.4)', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

test('seeded continuation equals one pass, for every split point', () => {
  const data = Buffer.from('the quick brown fox jumps over the lazy dog, 0123456789');
  const whole = crc32c(data);
  for (let split = 0; split <= data.length; split++) {
    assert.equal(crc32c(data, crc32c(data, 0, 0, split), split), whole);
  }
});
