// Goal: parseTraceparent accepts exactly the W3C Trace Context traceparent values a broker may
// continue (version 00 of its exact length, later versions with extra fields) and refuses the rest.
// Method: valid and invalid values from the specification's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent } from '../../src/observability/traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('valid values', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, traceFlags: 0 });
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`), { traceId: TRACE, spanId: SPAN, traceFlags: 1 });
});

test('invalid values', () => {
  for (const v of [
    '',
    `00-${TRACE}-${SPAN}`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `ff-${TRACE}-${SPAN}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-0g`,
    `01-${TRACE}-${SPAN}-01x`,
  ]) {
    assert.equal(parseTraceparent(v), null, v);
  }
});
