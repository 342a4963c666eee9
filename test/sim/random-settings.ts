// The Raft settings both simulators draw for a seed (the Raft one and the controller one), in one
// fixed order so a seed replays exactly: small messages and in-flight windows, pre-vote and
// check-quorum on or off, tight or loose byte limits.
import type { RaftSettings } from '../../src/replication/raft-driver.ts';
import type { Prng } from './prng.ts';

export function randomRaftSettings(random: Prng): RaftSettings {
  const maxMessageBytes = random.pick([512, 2048, 8192, 65536]);
  const heartbeatTicks = random.pick([1, 1, 2, 3]);
  return {
    electionTicks: 10,
    heartbeatTicks,
    preVote: random.chance(0.75),
    checkQuorum: random.chance(0.75),
    maxMessageBytes,
    maxInflightMessages: random.pick([1, 2, 4, 16, 64]),
    maxInflightBytes: maxMessageBytes * random.pick([1, 4, 64]),
    maxApplyBytes: random.pick([1024, 1024 * 1024]),
    maxUncommittedBytes: random.pick([16 * 1024, 1024 * 1024]),
    snapshotTimeoutTicks: random.pick([30, 200]),
    // Derived rather than drawn, so every seed replays as before: with a heartbeat of one tick a lost
    // probe waits for a heartbeat answer (0), else it is sent again a tick before the next heartbeat.
    probeRetryTicks: heartbeatTicks - 1,
  };
}
