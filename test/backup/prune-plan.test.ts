// Goal: pruning never leaves a kept backup unrestorable, never removes a backup younger than the
// retention or the newest complete one, never removes an unfinished backup that may still be running,
// and removes everything else.
// Method: fast-check builds backup folders (complete backups referencing only older complete ones,
// as create writes them, and unfinished ones) and checks the plan against those rules; two
// hand-written cases pin the guide's schedule (daily full, hourly incremental, 30 days).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planPrune, type BackupEntry } from '../../src/backup/prune-plan.ts';
import { backupId } from '../../src/backup/manifest.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const START_MS = Date.parse('2026-10-01T00:00:00Z');

const folder = fc
  .array(fc.record({ gapHours: fc.integer({ min: 1, max: 72 }), complete: fc.boolean(), full: fc.boolean(), refs: fc.array(fc.nat(), { maxLength: 4 }) }), { maxLength: 40 })
  .map((specs) => {
    const out: BackupEntry[] = [];
    let at = START_MS;
    let chainStart: string | null = null;
    const completeIds: string[] = [];
    for (const s of specs) {
      at += s.gapHours * HOUR_MS;
      const full = s.full || chainStart === null;
      const id = backupId(new Date(at), full ? 'full' : 'incremental');
      if (!s.complete) {
        out.push({ id, createdAtMs: at, complete: false, needs: [] });
        continue;
      }
      // An incremental backup reads its chain's full backup and earlier backups of the same chain.
      const chain = full ? [] : completeIds.filter((c) => c >= chainStart!);
      const needs = full ? [] : [...new Set([chainStart!, ...s.refs.filter(() => chain.length > 0).map((r) => chain[r % chain.length]!)])];
      out.push({ id, createdAtMs: at, complete: true, needs });
      completeIds.push(id);
      if (full) chainStart = id;
    }
    return { backups: out, lastMs: at };
  });

test('pruning keeps every kept backup restorable and everything young, removes the rest', () => {
  fc.assert(
    fc.property(folder, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 100 * 24 }), ({ backups, lastMs }, keepDays, laterHours) => {
      const now = lastMs + laterHours * HOUR_MS;
      const plan = planPrune(backups, now, keepDays * DAY_MS);
      const keep = new Set(plan.keep);
      const remove = new Set(plan.remove);
      assert.equal(keep.size + remove.size, backups.length, 'every backup is either kept or removed');
      const complete = backups.filter((b) => b.complete);
      const newest = complete[complete.length - 1];
      if (newest !== undefined) assert.ok(keep.has(newest.id), 'the newest complete backup is kept');
      for (const b of backups) {
        if (keep.has(b.id) && b.complete) for (const n of b.needs) assert.ok(keep.has(n), `${b.id} needs ${n}, which was removed`);
        if (b.complete && b.createdAtMs >= now - keepDays * DAY_MS) assert.ok(keep.has(b.id), `${b.id} is within the retention`);
        if (!b.complete && (newest === undefined || b.id > newest.id)) assert.ok(keep.has(b.id), `${b.id} may still be running`);
        // Nothing is kept without a reason.
        if (keep.has(b.id)) {
          const young = b.complete && b.createdAtMs >= now - keepDays * DAY_MS;
          const needed = backups.some((k) => keep.has(k.id) && k.complete && k.needs.includes(b.id));
          const running = !b.complete && (newest === undefined || b.id > newest.id);
          assert.ok(young || needed || running || b === newest, `${b.id} kept without a reason`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('the guide schedule: 30 days of hourly incrementals on daily fulls', () => {
  const backups: BackupEntry[] = [];
  let full = '';
  for (let hour = 0; hour < 40 * 24; hour++) {
    const at = START_MS + hour * HOUR_MS;
    if (hour % 24 === 0) {
      full = backupId(new Date(at), 'full');
      backups.push({ id: full, createdAtMs: at, complete: true, needs: [] });
    } else {
      backups.push({ id: backupId(new Date(at), 'incremental'), createdAtMs: at, complete: true, needs: [full] });
    }
  }
  const now = START_MS + 40 * 24 * HOUR_MS;
  const plan = planPrune(backups, now, 30 * DAY_MS);
  // Days 10..39 stay whole (the oldest kept incremental's full backup is on day 10 itself).
  assert.equal(plan.keep.length, 30 * 24);
  assert.equal(plan.remove.length, 10 * 24);
  assert.equal(plan.keep[0], backupId(new Date(START_MS + 10 * DAY_MS), 'full'));
});

test('an incremental backup inside the window keeps its older full backup; an old lone backup is still kept when it is the newest', () => {
  const fullAt = START_MS;
  const full = backupId(new Date(fullAt), 'full');
  const inc = backupId(new Date(fullAt + 29 * DAY_MS), 'incremental');
  const plan = planPrune(
    [
      { id: full, createdAtMs: fullAt, complete: true, needs: [] },
      { id: inc, createdAtMs: fullAt + 29 * DAY_MS, complete: true, needs: [full] },
    ],
    fullAt + 31 * DAY_MS,
    30 * DAY_MS,
  );
  assert.deepEqual(plan, { keep: [full, inc], remove: [] });
  const lone = planPrune([{ id: full, createdAtMs: fullAt, complete: true, needs: [] }], fullAt + 365 * DAY_MS, 30 * DAY_MS);
  assert.deepEqual(lone, { keep: [full], remove: [] });
  const abandoned = backupId(new Date(fullAt - HOUR_MS), 'incremental');
  const withAbandoned = planPrune(
    [
      { id: abandoned, createdAtMs: fullAt - HOUR_MS, complete: false, needs: [] },
      { id: full, createdAtMs: fullAt, complete: true, needs: [] },
    ],
    fullAt + DAY_MS,
    30 * DAY_MS,
  );
  assert.deepEqual(withAbandoned, { keep: [full], remove: [abandoned] });
});
