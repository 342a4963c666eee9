// Goal: no interleaving of joins, syncs, heartbeats, commits, leaves and time steps from several
// members (dynamic ones at JoinGroup v3/v5/v9, and static ones, two of them sharing an instance id
// as a restarted process would) breaks the group's invariants, and no parked answer is ever lost.
// Invariants after every step: the leader is a member (or there is none and no member); a generation
// never goes down; CompletingRebalance/Stable have a selected protocol every member supports;
// members wait in JoinGroup only while PreparingRebalance and in SyncGroup only while
// CompletingRebalance; in Stable every member holds an assignment made for the current generation;
// successful answers of one generation agree on the protocol and name a leader that was itself
// answered in that generation; a successful SyncGroup carries an
// assignment made for the generation it asked about. Liveness: once requests stop and time passes
// all timeouts, every JoinGroup/SyncGroup promise has settled, the group is Empty and no timer but
// the retention check is left.
// Method: fast-check generates command lists; a small client model turns them into requests on a
// coordinator over fake time and an in-memory log; invariants are checked on the coordinator's
// inspection snapshot and on every response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import type { JoinGroupResponse, JoinGroupResponseMember, SyncGroupResponse } from '../../src/groups/group-api.ts';
import { assignmentFor, commitRequest, flush, joinRequest, makeCoordinator, syncRequest, type Harness } from './harness.ts';

interface Client {
  readonly clientId: string;
  readonly instanceId: string | null;
  readonly apiVersion: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  memberId: string;
  generation: number;
  leaderMembers: readonly JoinGroupResponseMember[] | null;
  skipAssignment: boolean;
  joinInFlight: boolean;
  syncInFlight: boolean;
  /** The client holds the assignment of its generation. */
  synced: boolean;
  /** A heartbeat or sync told it to rejoin. */
  needsRejoin: boolean;
  variant: number;
}

type Command =
  | { kind: 'act'; client: number }
  | { kind: 'actAll' }
  | { kind: 'join'; client: number; variant: number }
  | { kind: 'sync'; client: number }
  | { kind: 'heartbeat'; client: number }
  | { kind: 'commit'; client: number }
  | { kind: 'leave'; client: number }
  | { kind: 'advance'; ms: number };

const CLIENTS: readonly { clientId: string; instanceId: string | null; apiVersion: number }[] = [
  { clientId: 'd5', instanceId: null, apiVersion: 5 },
  { clientId: 'd3', instanceId: null, apiVersion: 3 },
  { clientId: 'd9', instanceId: null, apiVersion: 9 },
  { clientId: 'sa', instanceId: 'inst-a', apiVersion: 5 },
  { clientId: 'sa-restarted', instanceId: 'inst-a', apiVersion: 9 },
  { clientId: 'sb', instanceId: 'inst-b', apiVersion: 7 },
];

const PROTOCOL_VARIANTS = [
  [{ name: 'range', metadata: Buffer.from('r1') }],
  [{ name: 'range', metadata: Buffer.from('r2') }],
  [
    { name: 'roundrobin', metadata: Buffer.from('rr') },
    { name: 'range', metadata: Buffer.from('r1') },
  ],
];

// 'act' is what a consumer does next on its own (join when it has no generation or was told to
// rejoin, sync after joining, heartbeat otherwise), 'actAll' has every client act; the rest are disruptions: forced rejoins with
// other protocols, leaves, commits and time steps of every size (large ones expire sessions).
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('act' as const), client: fc.nat(CLIENTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('join' as const), client: fc.nat(CLIENTS.length - 1), variant: fc.nat(PROTOCOL_VARIANTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), client: fc.nat(CLIENTS.length - 1) }) },
  // A busy consumer's background thread heartbeats while the consumer is slow to rejoin.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), client: fc.nat(CLIENTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const), client: fc.nat(CLIENTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), client: fc.nat(CLIENTS.length - 1) }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'actAll' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(0, 100, 500, 1_000, 2_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(3_000, 7_000, 20_000) }) },
);

/** How often interesting things happened across all runs: the property is vacuous without them. */
const seen = new Map<string, number>();
function saw(what: string): void {
  seen.set(what, (seen.get(what) ?? 0) + 1);
}

class Model {
  readonly clients: Client[];
  readonly parked: { settled: boolean; what: string }[] = [];
  private lastGeneration = 0;
  private readonly protocolOfGeneration = new Map<number, string>();
  /** Per generation: members that got a successful join answer, and the leaders those answers named. */
  private readonly answeredOfGeneration = new Map<number, Set<string>>();
  private readonly leadersNamed: { generation: number; leader: string }[] = [];
  readonly failures: string[] = [];

  constructor(
    readonly h: Harness,
    timeouts: readonly { sessionTimeoutMs: number; rebalanceTimeoutMs: number }[],
  ) {
    this.clients = CLIENTS.map((c, i) => ({
      ...c,
      ...timeouts[i]!,
      memberId: '',
      generation: -1,
      leaderMembers: null,
      skipAssignment: false,
      joinInFlight: false,
      syncInFlight: false,
      synced: false,
      needsRejoin: false,
      variant: 0,
    }));
  }

  async run(cmd: Command): Promise<void> {
    const coord = this.h.coordinator;
    if (cmd.kind === 'advance') {
      this.h.time.advance(cmd.ms);
      return;
    }
    if (cmd.kind === 'actAll') {
      for (let i = 0; i < this.clients.length; i++) await this.run({ kind: 'act', client: i });
      return;
    }
    const c = this.clients[cmd.client]!;
    if (cmd.kind === 'act') {
      if (c.memberId === '' || c.generation < 0 || c.needsRejoin) return this.run({ kind: 'join', client: cmd.client, variant: c.variant });
      if (!c.synced) return this.run({ kind: 'sync', client: cmd.client });
      return this.run({ kind: 'heartbeat', client: cmd.client });
    }
    switch (cmd.kind) {
      case 'join': {
        if (c.joinInFlight) return;
        c.variant = cmd.variant;
        c.joinInFlight = true;
        const memberIdSent = c.memberId;
        const p = coord.joinGroup(
          joinRequest({
            apiVersion: c.apiVersion,
            clientId: c.clientId,
            groupInstanceId: c.instanceId,
            memberId: memberIdSent,
            sessionTimeoutMs: c.sessionTimeoutMs,
            rebalanceTimeoutMs: c.rebalanceTimeoutMs,
            protocols: PROTOCOL_VARIANTS[cmd.variant]!,
          }),
        );
        this.park(p, `join ${c.clientId}`, (r) => this.onJoin(c, r));
        return;
      }
      case 'sync': {
        if (c.syncInFlight || c.memberId === '' || c.generation < 0) return;
        c.syncInFlight = true;
        const generation = c.generation;
        const assignments =
          c.leaderMembers !== null && !c.skipAssignment ? c.leaderMembers.map((m) => ({ memberId: m.memberId, assignment: assignmentFor(generation, m.memberId) })) : [];
        const p = coord.syncGroup(syncRequest({ generationId: generation, memberId: c.memberId, groupInstanceId: c.instanceId, assignments }));
        this.park(p, `sync ${c.clientId}`, (r) => this.onSync(c, generation, r));
        return;
      }
      case 'heartbeat': {
        if (c.memberId === '') return;
        const r = coord.heartbeat({ groupId: 'g', generationId: c.generation, memberId: c.memberId, groupInstanceId: c.instanceId });
        saw(`heartbeat ${r.errorCode}`);
        this.expect([E.NONE, E.REBALANCE_IN_PROGRESS, E.ILLEGAL_GENERATION, E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID].includes(r.errorCode as never), `heartbeat answered ${r.errorCode}`);
        if (r.errorCode === E.UNKNOWN_MEMBER_ID || r.errorCode === E.FENCED_INSTANCE_ID) this.reset(c);
        if (r.errorCode === E.REBALANCE_IN_PROGRESS || r.errorCode === E.ILLEGAL_GENERATION) c.needsRejoin = true;
        return;
      }
      case 'commit': {
        const r = await coord.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: c.generation, memberId: c.memberId, groupInstanceId: c.instanceId }));
        const code = r.topics[0]!.partitions[0]!.errorCode;
        const allowed: number[] = [E.NONE, E.REBALANCE_IN_PROGRESS, E.ILLEGAL_GENERATION, E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID];
        this.expect(allowed.includes(code), `commit answered ${code}`);
        return;
      }
      case 'leave': {
        if (c.memberId === '') return;
        const r = coord.leaveGroup({ groupId: 'g', members: [{ memberId: c.memberId, groupInstanceId: c.instanceId }] });
        this.expect(r.errorCode === E.NONE, `leave answered ${r.errorCode}`);
        this.reset(c);
        return;
      }
    }
  }

  private park<T>(p: Promise<T>, what: string, onValue: (v: T) => void): void {
    const entry = { settled: false, what };
    this.parked.push(entry);
    p.then(
      (v) => {
        entry.settled = true;
        onValue(v);
      },
      (e: unknown) => {
        entry.settled = true;
        this.failures.push(`${what} rejected: ${String(e)}`);
      },
    );
  }

  private onJoin(c: Client, r: JoinGroupResponse): void {
    c.joinInFlight = false;
    saw(`join ${r.errorCode}`);
    if (r.skipAssignment) saw('skipAssignment');
    if (r.errorCode === E.MEMBER_ID_REQUIRED) {
      c.memberId = r.memberId;
      return;
    }
    if (r.errorCode === E.NONE) {
      this.expect(r.generationId >= 1, 'successful join without generation');
      this.expect(r.protocolName !== null && r.leader !== '', 'successful join without protocol or leader');
      const known = this.protocolOfGeneration.get(r.generationId);
      if (known === undefined) this.protocolOfGeneration.set(r.generationId, r.protocolName!);
      else this.expect(known === r.protocolName, `generation ${r.generationId} answered protocols ${known} and ${r.protocolName}`);
      let answered = this.answeredOfGeneration.get(r.generationId);
      if (answered === undefined) this.answeredOfGeneration.set(r.generationId, (answered = new Set()));
      answered.add(r.memberId);
      this.leadersNamed.push({ generation: r.generationId, leader: r.leader });
      c.memberId = r.memberId;
      c.generation = r.generationId;
      c.synced = false;
      c.needsRejoin = false;
      c.leaderMembers = r.leader === r.memberId ? r.members : null;
      c.skipAssignment = r.skipAssignment;
      if (r.leader === r.memberId) this.expect(r.members.some((m) => m.memberId === r.memberId), 'leader not among the members it was sent');
      else this.expect(r.members.length === 0, 'a follower was sent the member list');
      return;
    }
    const allowed: number[] = [E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID, E.REBALANCE_IN_PROGRESS, E.INCONSISTENT_GROUP_PROTOCOL, E.GROUP_MAX_SIZE_REACHED];
    this.expect(allowed.includes(r.errorCode), `join answered ${r.errorCode}`);
    if (r.errorCode === E.UNKNOWN_MEMBER_ID || r.errorCode === E.FENCED_INSTANCE_ID) this.reset(c);
  }

  private onSync(c: Client, generation: number, r: SyncGroupResponse): void {
    c.syncInFlight = false;
    saw(`sync ${r.errorCode}`);
    if (r.errorCode === E.NONE) {
      this.expect(r.assignment.toString().startsWith(`g${generation}:`), `sync for generation ${generation} got "${r.assignment.toString()}"`);
      if (generation === c.generation) c.synced = true;
      return;
    }
    const allowed: number[] = [E.REBALANCE_IN_PROGRESS, E.ILLEGAL_GENERATION, E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID];
    this.expect(allowed.includes(r.errorCode), `sync answered ${r.errorCode}`);
    if (r.errorCode === E.UNKNOWN_MEMBER_ID || r.errorCode === E.FENCED_INSTANCE_ID) this.reset(c);
    if (r.errorCode === E.REBALANCE_IN_PROGRESS || r.errorCode === E.ILLEGAL_GENERATION) c.needsRejoin = true;
  }

  private reset(c: Client): void {
    c.memberId = '';
    c.generation = -1;
    c.leaderMembers = null;
    c.synced = false;
    c.needsRejoin = false;
  }

  private expect(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }

  checkGroup(): void {
    // Answers of one rebalance all arrive in the same turn, so by now the leader's own is in.
    for (const { generation, leader } of this.leadersNamed.splice(0)) {
      this.expect(this.answeredOfGeneration.get(generation)!.has(leader), `generation ${generation} names leader ${leader}, which was never answered`);
    }
    const g = this.h.coordinator.inspectGroup('g');
    if (g === undefined) return;
    saw(`state ${g.state}`);
    if (g.state === 'Stable') saw(`stable with ${g.members.length}`);
    const ids = new Set(g.members.map((m) => m.memberId));
    this.expect(ids.size === g.members.length, 'duplicate member ids');
    this.expect(g.leaderId === null ? g.members.length === 0 : ids.has(g.leaderId), `leader ${g.leaderId} is not a member (${g.state})`);
    this.expect(g.generationId >= this.lastGeneration, `generation went down: ${this.lastGeneration} -> ${g.generationId}`);
    this.lastGeneration = g.generationId;
    for (const m of g.members) {
      if (m.awaitingJoin) this.expect(g.state === 'PreparingRebalance', `member waits in JoinGroup while ${g.state}`);
      if (m.awaitingSync) this.expect(g.state === 'CompletingRebalance', `member waits in SyncGroup while ${g.state}`);
    }
    for (const p of g.pendingMemberIds) this.expect(!ids.has(p), 'a pending id is also a member');
    const instances = g.members.map((m) => m.groupInstanceId).filter((x) => x !== null);
    this.expect(new Set(instances).size === instances.length, 'one instance id held twice');
    if (g.state === 'CompletingRebalance' || g.state === 'Stable') {
      this.expect(g.members.length > 0 && g.protocolName !== null, `${g.state} group without members or protocol`);
      for (const m of g.members) this.expect(m.protocols.includes(g.protocolName!), `member ${m.memberId} does not support ${g.protocolName}`);
    }
    if (g.state === 'Stable') {
      for (const m of g.members) {
        this.expect(m.assignment.toString().startsWith(`g${g.generationId}:`), `Stable member ${m.memberId} holds "${m.assignment.toString()}" in generation ${g.generationId}`);
      }
    }
    if (g.state === 'Empty') this.expect(g.members.length === 0 && g.protocolName === null, 'Empty group with members or protocol');
  }
}

test('property: random interleavings keep the group invariants and lose no parked answer', async () => {
  const timeouts = fc.array(
    fc.record({ sessionTimeoutMs: fc.integer({ min: 6_000, max: 10_000 }), rebalanceTimeoutMs: fc.integer({ min: 6_000, max: 20_000 }) }),
    { minLength: CLIENTS.length, maxLength: CLIENTS.length },
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 3_000), timeouts, fc.array(command, { minLength: 40, maxLength: 150 }), async (delayMs, t, commands) => {
      const h = await makeCoordinator({ groupInitialRebalanceDelayMs: delayMs });
      const model = new Model(h, t);
      for (const cmd of commands) {
        await model.run(cmd);
        await flush();
        model.checkGroup();
        assert.deepEqual(model.failures, [], `after ${JSON.stringify(cmd)}`);
      }
      // Liveness: with no more requests, every timeout passes and everything parked is answered.
      for (let i = 0; i < 12; i++) {
        h.time.advance(60_000);
        await flush();
        model.checkGroup();
      }
      assert.deepEqual(model.failures, []);
      const open = model.parked.filter((p) => !p.settled).map((p) => p.what);
      assert.deepEqual(open, [], 'parked requests never answered');
      const g = h.coordinator.inspectGroup('g');
      if (g !== undefined) {
        assert.equal(g.state, 'Empty');
        assert.deepEqual(g.pendingMemberIds, []);
      }
      // Only the periodic retention check remains scheduled.
      assert.equal(h.time.pendingTimers(), 1);
      h.coordinator.close();
      assert.equal(h.time.pendingTimers(), 0);
    }),
    // A fixed seed keeps the suite deterministic; STREAMBUS_PROPERTY_SEED explores other seeds.
    { numRuns: 150, seed: Number(process.env.STREAMBUS_PROPERTY_SEED ?? 20_251_127) },
  );
  // The runs must have exercised the protocol, not just bounced off errors.
  // Typical counts over 150 runs are about four times these floors.
  const atLeast: [string, number][] = [
    ['join 79', 100],
    ['join 0', 500],
    ['join 82', 100],
    ['join 25', 20],
    ['sync 0', 200],
    ['sync 27', 200],
    ['sync 82', 50],
    ['heartbeat 0', 200],
    ['heartbeat 27', 50],
    ['heartbeat 22', 5],
    ['state Stable', 300],
    ['stable with 5', 200],
    ['state PreparingRebalance', 1000],
    ['state CompletingRebalance', 200],
    ['skipAssignment', 10],
  ];
  const missing = atLeast.filter(([what, n]) => (seen.get(what) ?? 0) < n).map(([what, n]) => `${what}: ${seen.get(what) ?? 0} < ${n}`);
  assert.deepEqual(missing, [], `coverage: ${JSON.stringify([...seen].sort())}`);
});
