/**
 * Who belongs to the controller group, decided by its leader one change at a time (Raft allows one
 * pending). Pure: the caller supplies the registered brokers, the group's configuration and who it
 * reaches, and proposes the change returned.
 *
 * - Voters are the brokers of cluster.nodes (as the leader's configuration lists them). A voter an
 *   operator decommissioned leaves the voters once it holds no replica: scaling down a cluster whose
 *   every broker is listed must not leave the controller counting on stopped brokers. The leader never
 *   removes itself: it hands leadership to another voter first, and that one removes it.
 * - Never below MIN_VOTERS voters, and never a removal after which the voters this leader reaches are
 *   not a majority of those left (it would stop the controller).
 * - A listed broker that is a caught-up learner and not being decommissioned becomes a voter again
 *   (recommissioned, or newly listed on every broker).
 * - Every other registered broker follows as a learner; a decommissioned one that holds nothing and is
 *   gone (stopped, as scaling down does) leaves, and comes back as a learner if it returns.
 * A broker drained automatically (cluster.deadBrokerTimeout) stays a voter: the controller does not shrink
 * its own quorum on a guess that a broker is gone for good.
 */
import type { BrokerRecord } from '../../metadata/broker-registration.ts';
import type { ConfChange, ConfState } from '../../raft/index.ts';

/** The fewest voters removals leave: below three, one failure stops the controller. */
export const MIN_VOTERS = 3;

export interface MembershipFacts {
  /** The controller leader's broker id. */
  readonly self: number;
  readonly conf: ConfState;
  /** Registered brokers. */
  readonly brokers: readonly BrokerRecord[];
  /** The ids of cluster.nodes in the leader's configuration. */
  readonly listed: ReadonlySet<number>;
  /** Whether broker `id` holds a replica (moves included). */
  holds(id: number): boolean;
  /** Whether the leader reaches broker `id` now (itself included). */
  reachable(id: number): boolean;
  /** Whether learner `id` holds the controller log up to the commit index (Raft promotes only then). */
  caughtUp(id: number): boolean;
}

export type MembershipStep = { readonly kind: 'change'; readonly change: ConfChange } | { readonly kind: 'transfer-leadership'; readonly to: number };

/** A decommissioned voter's removal waiting: why, for the log and for operators. */
export interface VoterRemovalHeld {
  readonly voter: number;
  readonly reason: string;
}

/** The next step, or null; and a decommissioned voter's removal that waits (other steps go on meanwhile). */
export function nextMembershipStep(facts: MembershipFacts): { readonly step: MembershipStep | null; readonly held: VoterRemovalHeld | null } {
  let held: VoterRemovalHeld | null = null;
  const leaving = leavingVoterStep(facts);
  if (leaving !== null && 'reason' in leaving) held = leaving;
  else if (leaving !== null) return { step: leaving, held };
  return { step: otherStep(facts), held };
}

function leavingVoterStep(facts: MembershipFacts): MembershipStep | VoterRemovalHeld | null {
  const { conf, self } = facts;
  const byId = new Map(facts.brokers.map((b) => [b.id, b]));
  const decommissioned = (id: number): boolean => {
    const b = byId.get(id);
    return b !== undefined && b.draining === true && b.autoDrained !== true;
  };
  const leaving = conf.voters.find((id) => decommissioned(id) && !facts.holds(id));
  if (leaving !== undefined) {
    const problem = voterRemovalProblem(conf.voters, leaving, facts.reachable);
    if (problem !== null) return { voter: leaving, reason: problem };
    if (leaving !== self) return { kind: 'change', change: { type: 'removeNode', nodeId: leaving } };
    const to = conf.voters.find((id) => id !== self && facts.reachable(id) && !decommissioned(id));
    if (to !== undefined) return { kind: 'transfer-leadership', to };
    return { voter: leaving, reason: 'no other voter is reachable to take the controller\'s leadership' };
  }
  return null;
}

function otherStep(facts: MembershipFacts): MembershipStep | null {
  const { conf } = facts;
  const byId = new Map(facts.brokers.map((b) => [b.id, b]));
  const promote = conf.learners.find((id) => facts.listed.has(id) && byId.has(id) && byId.get(id)!.draining !== true && facts.reachable(id) && facts.caughtUp(id));
  if (promote !== undefined) return { kind: 'change', change: { type: 'promoteLearner', nodeId: promote } };
  const wanted = (id: number): boolean => {
    const b = byId.get(id);
    return b !== undefined && !(b.draining === true && !facts.holds(id) && !facts.reachable(id));
  };
  const members = new Set([...conf.voters, ...conf.learners]);
  const add = facts.brokers.find((b) => !members.has(b.id) && wanted(b.id));
  if (add !== undefined) return { kind: 'change', change: { type: 'addLearner', nodeId: add.id } };
  const remove = conf.learners.find((id) => !wanted(id));
  if (remove !== undefined) return { kind: 'change', change: { type: 'removeNode', nodeId: remove } };
  return null;
}

/**
 * Why voter `id` cannot leave the controller now, or null: too few voters would be left, or those left
 * that `reachable` reaches would not be a majority of them. Also what decommissioning a voter is refused for.
 */
export function voterRemovalProblem(voters: readonly number[], id: number, reachable: (id: number) => boolean): string | null {
  const left = voters.filter((v) => v !== id);
  if (left.length < MIN_VOTERS) {
    return (
      `broker ${id} is one of the controller's ${voters.length} voters (cluster.nodes); without it ${left.length} would be left, ` +
      `and a controller needs ${MIN_VOTERS} voters to survive a failure. List another broker in cluster.nodes on every broker first (it becomes a voter once it has caught up)`
    );
  }
  const up = left.filter(reachable).length;
  if (up * 2 <= left.length) return `without broker ${id} the controller would have ${left.length} voters of which only ${up} are reachable, not a majority`;
  return null;
}
