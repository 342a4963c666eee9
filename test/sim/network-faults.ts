// The network faults both simulators inject (the Raft one and the controller one), drawn from the
// fault stream in one fixed order so a seed replays exactly. Each simulator decides how often each
// kind happens; this only carries one out and logs it.
import type { NodeId } from '../../src/raft/index.ts';
import type { Prng } from './prng.ts';
import type { SimNetwork } from './sim-network.ts';

/** `conditions` draws new loss, duplication and delay for every link. */
export type NetworkFault = 'partition' | 'isolate' | 'cut-link' | 'heal' | 'conditions';

export function injectNetworkFault(fault: NetworkFault, network: SimNetwork, ids: readonly NodeId[], random: Prng, log: (line: string) => void): void {
  switch (fault) {
    case 'partition': {
      const shuffled = [...ids];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = random.nextInt(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const cut = random.between(1, shuffled.length - 1);
      network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
      log(`fault: partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
      return;
    }
    case 'isolate': {
      const isolated = random.pick(ids);
      network.partition([isolated], ids.filter((id) => id !== isolated));
      log(`fault: isolate ${isolated}`);
      return;
    }
    case 'cut-link': {
      const from = random.pick(ids);
      const to = random.pick(ids.filter((id) => id !== from));
      network.block(from, to);
      log(`fault: cut link ${from}->${to}`);
      return;
    }
    case 'heal':
      network.heal();
      log('fault: heal network');
      return;
    case 'conditions':
      network.dropRate = random.pick([0, 0, 0.01, 0.05, 0.2]);
      network.duplicateRate = random.pick([0, 0.02, 0.1]);
      network.minDelayMs = random.between(0, 5);
      network.maxDelayMs = network.minDelayMs + random.pick([5, 20, 80]);
      log(`fault: network drop=${network.dropRate} dup=${network.duplicateRate} delay=${network.minDelayMs}..${network.maxDelayMs}ms`);
  }
}
