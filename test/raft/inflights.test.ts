// Goal: the in-flight window bounds messages by count and by bytes, and acknowledgements free
// exactly the messages they cover.
// Method: drive an Inflights ring through adds, partial frees and wrap-around.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../../src/raft/inflights.ts';

test('full by count, freed by acknowledgement, across wrap-around', () => {
  const window = new Inflights(3, 1000);
  window.add(5, 10);
  window.add(7, 10);
  window.add(9, 10);
  assert.equal(window.full(), true);
  assert.throws(() => window.add(10, 1));
  window.freeLE(6);
  assert.equal(window.count, 2);
  assert.equal(window.bytes, 20);
  window.add(12, 10);
  assert.equal(window.count, 3);
  assert.equal(window.full(), true);
  window.freeLE(4);
  assert.equal(window.count, 3, 'an old acknowledgement frees nothing');
  window.freeLE(10);
  window.add(14, 10);
  assert.equal(window.count, 2);
  window.freeLE(13);
  assert.equal(window.count, 1);
  assert.equal(window.bytes, 10);
  window.freeLE(100);
  assert.equal(window.count, 0);
  assert.equal(window.bytes, 0);
});

test('full by bytes, yet one message always fits in an empty window', () => {
  const window = new Inflights(10, 100);
  window.add(1, 60);
  assert.equal(window.full(), false);
  window.add(2, 60);
  assert.equal(window.full(), true);
  window.reset();
  assert.equal(window.full(), false);
  window.add(3, 5000);
  assert.equal(window.count, 1);
});

test('indexes must increase', () => {
  const window = new Inflights(4, 100);
  window.add(5, 1);
  assert.throws(() => window.add(5, 1));
});
