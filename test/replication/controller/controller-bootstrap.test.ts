// Goal: a listed broker with an empty controller log votes at once only when every other listed broker
// says its log is empty too (a new cluster); one broker holding a log is enough to make it catch up
// first (an existing cluster: it is new or its disk was replaced). Until all answered it decides
// nothing. Probes are answered with the broker's own state; malformed, unasked or foreign answers are
// ignored without a crash.
// Method: ControllerBootstrap instances wired to each other through an in-test channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerBootstrap, MSG_LOG_PROBE, MSG_LOG_PROBE_ANSWER, type BootstrapDecision } from '../../../src/replication/controller/controller-bootstrap.ts';
import type { ChannelMessage } from '../../../src/replication/peer-channel.ts';
import { captureLog } from '../../helpers/capture-log.ts';

type Handler = (from: number, message: ChannelMessage) => void;

/** Brokers whose channels deliver synchronously to each other; `up` says who is reachable. */
class Net {
  readonly handlers = new Map<number, Handler[]>();
  readonly up = new Set<number>();
  readonly sent: { from: number; to: number; message: ChannelMessage }[] = [];

  channel(id: number) {
    this.up.add(id);
    return {
      send: (to: number, _lane: 'control' | 'data', message: ChannelMessage): boolean => {
        this.sent.push({ from: id, to, message });
        if (!this.up.has(to) || !this.up.has(id)) return false;
        for (const h of this.handlers.get(to) ?? []) h(id, message);
        return true;
      },
      onMessage: (handler: Handler) => void this.handlers.set(id, [...(this.handlers.get(id) ?? []), handler]),
    };
  }
}

function broker(net: Net, id: number, listed: number[], holds: () => boolean) {
  const { log, lines } = captureLog('info');
  const bootstrap = new ControllerBootstrap({ brokerId: id, channel: net.channel(id), listedPeers: listed.filter((x) => x !== id), holdsEntries: holds, log });
  let decision: BootstrapDecision | null = null;
  return {
    bootstrap,
    lines,
    decide: () => void bootstrap.decide().then((d) => (decision = d)),
    decision: () => decision,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a new cluster: every listed broker answers empty, so each votes at once', async () => {
  const net = new Net();
  const brokers = [1, 2, 3].map((id) => broker(net, id, [1, 2, 3], () => false));
  for (const b of brokers) b.decide();
  for (const b of brokers) b.bootstrap.ask();
  await turn();
  assert.deepEqual(brokers.map((b) => b.decision()), ['new-cluster', 'new-cluster', 'new-cluster']);
  assert.match(JSON.stringify(brokers[0]!.lines()), /a new cluster, this broker votes at once/);
});

test('until every listed broker answered nothing is decided, and only the silent ones are asked again', async () => {
  const net = new Net();
  const b1 = broker(net, 1, [1, 2, 3], () => false);
  broker(net, 2, [1, 2, 3], () => false);
  net.up.delete(3);
  b1.decide();
  b1.bootstrap.ask();
  await turn();
  assert.equal(b1.decision(), null, 'broker 3 may hold the only copy of what broker 1 lost');
  assert.deepEqual(b1.bootstrap.waitingFor, [3]);
  net.sent.length = 0;
  b1.bootstrap.ask();
  assert.deepEqual(net.sent.filter((s) => s.message.type === MSG_LOG_PROBE).map((s) => s.to), [3]);
  // Broker 3 starts (empty as well): the cluster is new.
  broker(net, 3, [1, 2, 3], () => false);
  b1.bootstrap.ask();
  await turn();
  assert.equal(b1.decision(), 'new-cluster');
});

test('one broker holding a controller log is enough: the empty one catches up before voting', async () => {
  const net = new Net();
  const replaced = broker(net, 2, [1, 2, 3], () => false);
  broker(net, 1, [1, 2, 3], () => true);
  net.up.delete(3);
  replaced.decide();
  replaced.bootstrap.ask();
  await turn();
  assert.equal(replaced.decision(), 'existing-cluster');
  assert.match(JSON.stringify(replaced.lines()), /catches up before it votes/);
});

test('malformed probes and answers, answers nobody asked for and answers from unlisted brokers are ignored', async () => {
  const net = new Net();
  const b1 = broker(net, 1, [1, 2], () => false);
  const send = net.channel(2).send;
  const foreign = net.channel(9).send;
  b1.decide();
  for (const body of [null, [], [0], ['1'], [1, 2, 3]]) send(1, 'control', { type: MSG_LOG_PROBE, body });
  for (const body of [null, [1], [1, 'yes'], [-1, true], [1, true, 3]]) send(1, 'control', { type: MSG_LOG_PROBE_ANSWER, body });
  // A well-formed answer to a question never asked.
  send(1, 'control', { type: MSG_LOG_PROBE_ANSWER, body: [999, true] });
  b1.bootstrap.ask();
  const asked = net.sent.find((s) => s.from === 1 && s.to === 2 && s.message.type === MSG_LOG_PROBE)!;
  const requestId = (asked.message.body as number[])[0]!;
  // Broker 9 is not in cluster.nodes: its answer does not count.
  foreign(1, 'control', { type: MSG_LOG_PROBE_ANSWER, body: [requestId, true] });
  await turn();
  assert.equal(b1.decision(), null);
  assert.ok(b1.lines().filter((l) => /malformed/.test(String(l.msg))).length >= 9);
  send(1, 'control', { type: MSG_LOG_PROBE_ANSWER, body: [requestId, false] });
  await turn();
  assert.equal(b1.decision(), 'new-cluster');
});

test('a probe is answered with what the log holds now', () => {
  const net = new Net();
  let holds = false;
  broker(net, 1, [1, 2], () => holds);
  const asker = net.channel(2);
  const answers: unknown[] = [];
  asker.onMessage((_from, m) => void (m.type === MSG_LOG_PROBE_ANSWER && answers.push(m.body)));
  asker.send(1, 'control', { type: MSG_LOG_PROBE, body: [7] });
  holds = true;
  asker.send(1, 'control', { type: MSG_LOG_PROBE, body: [8] });
  assert.deepEqual(answers, [[7, false], [8, true]]);
});
