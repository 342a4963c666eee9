/**
 * The cluster metadata of a broker in a cluster: the controller's Raft group (group 0, over the
 * brokers in cluster.nodes) applies every command on every broker, and any broker may submit one.
 * The leader proposes it; a follower forwards it to the leader over the inter-broker transport and
 * waits for the answer (controller-channel.ts), as KRaft forwards admin requests to its active
 * controller. `submit` resolves once the command applied on this broker, so the caller reads its
 * effect from `state` right after, wherever it was decided.
 *
 * Retries: a command is sent again (to whichever broker leads then) only when it certainly was not
 * appended: the leader refused it at once, or the broker asked was not the leader. Once appended, a
 * lost leadership or a timeout leaves its fate unknown, so the caller gets NOT_CONTROLLER or
 * REQUEST_TIMED_OUT (both retriable for Kafka clients) and decides.
 *
 * A broker added outside cluster.nodes is not in the controller group until the leader adds it as a
 * learner, which its registration triggers; until then it hears of no leader, so it asks the brokers of
 * cluster.nodes (`contacts`) in turn, and one that does not lead names the one that does.
 *
 * The cluster's id: the first leader finds the state unnamed and proposes a fresh id; until that
 * entry applies there is no state, and the broker is not ready (see `initialised`).
 */
import type { Clock, TimerHandle } from '../../io/clock.ts';
import type { ClusterState, MetadataCommand, MetadataResult } from '../../metadata/cluster-state.ts';
import type { SoftState } from '../../raft/index.ts';
import { assert } from '../../util/assert.ts';
import { ProducerIdBlocks, type MetadataService } from '../metadata-service.ts';
import type { RaftDriver } from '../raft-driver.ts';
import { MSG_ANSWER, MSG_FORWARD, decodeAnswer, decodeForward, encodeAnswer, encodeForward, type ControllerChannel, type ForwardAnswer } from './controller-channel.ts';
import { encodeControllerEntry } from './controller-entry.ts';
import type { ControllerStateMachine } from './controller-state-machine.ts';

/** Request numbers start at a random point below this (2^48), leaving room to count up. */
const REQUEST_ID_SPACE = 2 ** 48;
/** Between attempts while no leader is known or the leader is not ready. */
const RETRY_MS = 50;

export interface ControllerLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface ReplicatedMetadataOptions {
  readonly brokerId: number;
  /** The controller group's driver; its state machine is `stateMachine`. */
  readonly driver: RaftDriver;
  readonly stateMachine: ControllerStateMachine;
  readonly channel: ControllerChannel;
  readonly clock: Clock;
  /** A fresh cluster id, for the first leader of a new cluster. */
  readonly newClusterId: () => string;
  /**
   * A number in [0, 1) (Math.random in production, seeded in the simulator). Forwarded requests are
   * numbered from a random start, so a leader's late answer to a request of this broker's previous
   * process cannot be taken for the answer to a request of this one.
   */
  readonly random: () => number;
  /**
   * Whom to ask while no leader is known here: the brokers of cluster.nodes, for a broker outside the
   * controller group (empty for the brokers in it, which hear of their leader through Raft).
   */
  readonly contacts?: readonly number[];
  /** How long submit waits for a leader and its answer before REQUEST_TIMED_OUT. */
  readonly submitTimeoutMs: number;
  readonly log: ControllerLogger;
}

/** An attempt's outcome: a final result, or a retry because nothing was appended. */
type Attempt = { readonly retry: false; readonly result: MetadataResult } | { readonly retry: true; readonly why: string };

/** A leader's decision and the log index it had applied then (the command's own index when it applied). */
type Decision = { readonly retry: false; readonly result: MetadataResult; readonly appliedIndex: number } | { readonly retry: true; readonly why: string };

interface PendingForward {
  readonly leader: number;
  readonly timer: TimerHandle;
  /** The leader's answer; null when it did not come in time; 'deposed' when the asked broker stopped leading. */
  readonly resolve: (answer: ForwardAnswer | null | 'deposed') => void;
}

export class ReplicatedMetadata implements MetadataService {
  private readonly options: ReplicatedMetadataOptions;
  private readonly driver: RaftDriver;
  private readonly machine: ControllerStateMachine;
  private readonly producerIds = new ProducerIdBlocks((cmd, timeoutMs) => this.submit(cmd, timeoutMs));
  private readonly forwards = new Map<number, PendingForward>();
  private readonly changeWaiters = new Set<() => void>();
  private nextRequestId: number;
  /** The term in which this broker last proposed the cluster's id. */
  private namedInTerm = -1;
  private stopped = false;
  /** The leader a contact named last (0: none), and which contact to ask next when none did. */
  private leaderHint = 0;
  private contactTurn = 0;

  constructor(options: ReplicatedMetadataOptions) {
    this.options = options;
    this.driver = options.driver;
    this.machine = options.stateMachine;
    this.nextRequestId = 1 + Math.floor(options.random() * REQUEST_ID_SPACE);
    options.channel.onMessage((from, message) => {
      if (message.type === MSG_FORWARD) this.onForward(from, message.body);
      else if (message.type === MSG_ANSWER) this.onAnswer(from, message.body);
    });
    this.machine.listen({ applied: () => this.wakeWaiters(), reset: () => this.wakeWaiters() });
  }

  /** True once the cluster's id is applied here: `state` may be read. */
  get initialised(): boolean {
    return this.machine.state !== null;
  }

  get state(): ClusterState {
    const state = this.machine.state;
    assert(state !== null, 'cluster metadata read before the controller named the cluster');
    return state;
  }

  /** The controller's leader as this broker knows it, or -1. */
  get leaderId(): number {
    const leader = this.driver.raft.leader;
    return leader === 0 ? -1 : leader;
  }

  onChange(listener: (cmd: MetadataCommand) => void): void {
    this.machine.listen({ applied: listener, reset: () => undefined });
  }

  /** Called when the state was replaced as a whole (the cluster named, a snapshot installed). */
  onReset(listener: () => void): void {
    this.machine.listen({ applied: () => undefined, reset: listener });
  }

  nextProducerId(): Promise<bigint> {
    return this.producerIds.nextProducerId();
  }

  /** The driver's soft-state hook: leadership changed. */
  leadershipChanged(state: SoftState, term: number): void {
    if (state.lead === this.options.brokerId && this.machine.state === null && this.namedInTerm !== term) {
      this.namedInTerm = term;
      const clusterId = this.options.newClusterId();
      const accepted = this.driver.propose([encodeControllerEntry({ kind: 'init', clusterId })], () => this.wakeWaiters());
      if (accepted.accepted) this.options.log.info({ clusterId, term }, 'controller leader names the new cluster');
    }
    // Once another broker leads, the one asked before (a dead one, typically) will not answer what was
    // forwarded to it: end those waits now rather than at their deadline, so callers retry against the
    // new leader. While no leader is known, they wait: the old one may still answer.
    for (const [requestId, pending] of this.forwards) {
      if (state.lead === 0 || pending.leader === state.lead) continue;
      this.options.clock.clearTimer(pending.timer);
      this.forwards.delete(requestId);
      pending.resolve('deposed');
    }
    this.wakeWaiters();
  }

  async submit(cmd: MetadataCommand, timeoutMs?: number): Promise<MetadataResult> {
    const limit = timeoutMs === undefined || timeoutMs <= 0 ? this.options.submitTimeoutMs : Math.min(timeoutMs, this.options.submitTimeoutMs);
    const deadline = this.options.clock.now() + limit;
    let why = 'no controller leader is known';
    while (!this.stopped) {
      const leader = this.driver.raft.leader !== 0 ? this.driver.raft.leader : this.guessLeader();
      let attempt: Attempt | null = null;
      if (leader === this.options.brokerId && this.machine.state !== null) attempt = await this.proposeHere(cmd);
      else if (leader !== 0 && leader !== this.options.brokerId) attempt = await this.forward(leader, cmd, deadline);
      if (attempt !== null) {
        if (!attempt.retry) return attempt.result;
        why = attempt.why;
      }
      const left = deadline - this.options.clock.now();
      if (left <= 0) break;
      await this.changeOrDelay(Math.min(left, RETRY_MS));
    }
    return { error: 'REQUEST_TIMED_OUT', message: `The controller did not decide in ${limit} ms: ${why}.` };
  }

  /** For a broker outside the controller group: the leader a contact named, else the next contact. */
  private guessLeader(): number {
    const contacts = (this.options.contacts ?? []).filter((id) => id !== this.options.brokerId);
    if (contacts.length === 0) return 0;
    if (this.leaderHint !== 0) return this.leaderHint;
    return contacts[this.contactTurn++ % contacts.length]!;
  }

  /** Stops answering and asking; pending submits end with REQUEST_TIMED_OUT or NOT_CONTROLLER. */
  stop(): void {
    this.stopped = true;
    for (const [id, pending] of this.forwards) {
      this.options.clock.clearTimer(pending.timer);
      this.forwards.delete(id);
      pending.resolve(null);
    }
    this.wakeWaiters();
  }

  private proposeHere(cmd: MetadataCommand): Promise<Decision> {
    // A command the applied state already refuses is answered without a log entry.
    const verdict = this.state.validate(cmd);
    if (verdict.error !== null) return Promise.resolve({ retry: false, result: verdict, appliedIndex: this.driver.raft.appliedIndex });
    return new Promise((resolve) => {
      const proposed = this.driver.propose([encodeControllerEntry({ kind: 'command', cmd })], (outcome) => {
        if (outcome.kind === 'applied') {
          const result = this.machine.takeResult(outcome.index);
          const kept = result ?? { error: 'NOT_CONTROLLER', message: 'The command applied but its result was not kept; check the state.' };
          resolve({ retry: false, result: kept, appliedIndex: outcome.index });
        } else {
          const message = `The controller's leadership changed while deciding (${outcome.kind}); the command may or may not have applied.`;
          resolve({ retry: false, result: { error: 'NOT_CONTROLLER', message }, appliedIndex: this.driver.raft.appliedIndex });
        }
      });
      if (!proposed.accepted) resolve({ retry: true, why: `the controller leader refused the command (${proposed.reason})` });
    });
  }

  private forward(leader: number, cmd: MetadataCommand, deadline: number): Promise<Attempt> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const settle = (answer: ForwardAnswer | null | 'deposed') => {
        if (answer === null) {
          if (leader === this.leaderHint) this.leaderHint = 0;
          resolve({ retry: false, result: { error: 'REQUEST_TIMED_OUT', message: `Controller leader ${leader} did not answer in time; the command may still apply.` } });
        } else if (answer === 'deposed') {
          resolve({ retry: false, result: { error: 'NOT_CONTROLLER', message: `Broker ${leader} stopped leading the controller before answering; the command may or may not have applied.` } });
        } else if (answer.kind === 'not-leader') {
          this.leaderHint = answer.leader !== this.options.brokerId ? answer.leader : 0;
          resolve({ retry: true, why: `broker ${leader} no longer leads the controller` });
        } else {
          // The leader answers once it applied the command; wait until it applied here too, so the
          // caller reads its effect in `state`. If this broker cannot catch up in time, the caller is
          // told the command's fate is not visible here yet (it did apply at the leader).
          void this.appliedHere(answer.appliedIndex, deadline).then((caughtUp) =>
            resolve({
              retry: false,
              result: caughtUp
                ? answer.result
                : { error: 'REQUEST_TIMED_OUT', message: `The controller decided the command, but this broker has not applied it yet (index ${answer.appliedIndex}); retry.` },
            }),
          );
        }
      };
      const timer = this.options.clock.setTimer(Math.max(1, deadline - this.options.clock.now()), () => {
        this.forwards.delete(requestId);
        settle(null);
      });
      this.forwards.set(requestId, { leader, timer, resolve: settle });
      if (!this.options.channel.send(leader, 'control', { type: MSG_FORWARD, body: encodeForward(requestId, cmd) })) {
        this.options.clock.clearTimer(timer);
        this.forwards.delete(requestId);
        if (leader === this.leaderHint) this.leaderHint = 0;
        resolve({ retry: true, why: `controller leader ${leader} is unreachable` });
      }
    });
  }

  /**
   * Waits (until the deadline at most) for this broker to apply the log up to `index`, so that the
   * caller of a forwarded command reads its effect in `state`. False when it did not get there.
   */
  private async appliedHere(index: number, deadline: number): Promise<boolean> {
    while (this.driver.raft.appliedIndex < index) {
      const left = deadline - this.options.clock.now();
      if (this.stopped || left <= 0) return false;
      await this.changeOrDelay(Math.min(RETRY_MS, left));
    }
    return true;
  }

  private onForward(from: number, body: unknown): void {
    const request = decodeForward(body);
    if ('problem' in request) {
      this.options.log.warn({ from, problem: request.problem }, 'malformed command forwarded to the controller');
      if (request.requestId !== null) this.answer(from, request.requestId, { kind: 'result', result: { error: 'INVALID_REQUEST', message: request.problem }, appliedIndex: 0 });
      return;
    }
    const leader = this.driver.raft.leader;
    if (this.stopped || leader !== this.options.brokerId || this.machine.state === null) {
      this.answer(from, request.requestId, { kind: 'not-leader', leader: leader === this.options.brokerId ? 0 : leader });
      return;
    }
    void this.proposeHere(request.cmd).then((attempt) =>
      this.answer(from, request.requestId, attempt.retry ? { kind: 'not-leader', leader: 0 } : { kind: 'result', result: attempt.result, appliedIndex: attempt.appliedIndex }),
    );
  }

  private onAnswer(from: number, body: unknown): void {
    const decoded = decodeAnswer(body);
    if (decoded === null) {
      this.options.log.warn({ from }, 'malformed controller answer');
      return;
    }
    const pending = this.forwards.get(decoded.requestId);
    if (pending === undefined || pending.leader !== from) return; // late (timed out) or not from whom we asked
    this.forwards.delete(decoded.requestId);
    this.options.clock.clearTimer(pending.timer);
    pending.resolve(decoded.answer);
  }

  private answer(to: number, requestId: number, answer: ForwardAnswer): void {
    this.options.channel.send(to, 'control', { type: MSG_ANSWER, body: encodeAnswer(requestId, answer) });
  }

  private changeOrDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.changeWaiters.delete(done);
        this.options.clock.clearTimer(timer);
        resolve();
      };
      const timer = this.options.clock.setTimer(Math.max(1, ms), done);
      this.changeWaiters.add(done);
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.changeWaiters]) wake();
  }
}
