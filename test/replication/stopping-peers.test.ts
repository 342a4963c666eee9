// Goal: a stopping broker tells every peer, once, and again any peer whose link comes up while it is
// stopping; a peer's notice marks it as stopping until its link goes down (a broker that comes back is
// another process); other message types mean nothing to it.
// Method: StoppingPeers over an in-memory channel that records what is sent and lets the test deliver
// messages and link transitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOPPING_NOTICE_TYPE, StoppingPeers } from '../../src/replication/stopping-peers.ts';
import type { ChannelMessage, PeerLane, PeerLinkState } from '../../src/replication/peer-channel.ts';

function fakeChannel() {
  const sent: Array<{ to: number; lane: PeerLane; message: ChannelMessage }> = [];
  let onMessage: (from: number, message: ChannelMessage) => void = () => undefined;
  let onPeerState: (peer: number, state: PeerLinkState) => void = () => undefined;
  return {
    sent,
    channel: {
      send: (to: number, lane: PeerLane, message: ChannelMessage) => (sent.push({ to, lane, message }), true),
      onMessage: (h: typeof onMessage) => void (onMessage = h),
      onPeerState: (h: typeof onPeerState) => void (onPeerState = h),
    },
    deliver: (from: number, message: ChannelMessage) => onMessage(from, message),
    link: (peer: number, state: PeerLinkState) => onPeerState(peer, state),
  };
}

test('announce tells every peer once on the control lane, and a peer whose link comes up later', () => {
  const f = fakeChannel();
  const peers = new StoppingPeers({ channel: f.channel, peers: () => [2, 3] });
  f.link(2, 'up');
  assert.equal(f.sent.length, 0, 'nothing is said before the stop');
  peers.announce();
  peers.announce();
  assert.deepEqual(f.sent, [2, 3].map((to) => ({ to, lane: 'control', message: { type: STOPPING_NOTICE_TYPE, body: [] } })));
  f.link(3, 'down');
  f.link(3, 'up');
  assert.deepEqual(f.sent.at(-1), { to: 3, lane: 'control', message: { type: STOPPING_NOTICE_TYPE, body: [] } }, 'told again after its link came back');
  assert.equal(f.sent.length, 3);
});

test('a notice marks its sender as stopping until the sender\'s link goes down', () => {
  const f = fakeChannel();
  const peers = new StoppingPeers({ channel: f.channel, peers: () => [2, 3] });
  assert.equal(peers.has(2), false);
  f.deliver(2, { type: 48, body: [] });
  assert.equal(peers.has(2), false, 'another layer\'s message says nothing');
  f.deliver(2, { type: STOPPING_NOTICE_TYPE, body: [] });
  assert.equal(peers.has(2), true);
  assert.equal(peers.has(3), false);
  f.link(2, 'down');
  assert.equal(peers.has(2), false, 'a broker that comes back is another process');
});
