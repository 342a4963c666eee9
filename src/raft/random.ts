/**
 * The only randomness the Raft core uses: the jitter added to each election timeout. It is handed in
 * by the driver (a seeded generator in the simulator, a real one in the broker) so that the same
 * seed replays the same elections.
 */
export interface Random {
  /** Returns an integer in [0, bound). `bound` is a positive integer. Must not throw. */
  nextInt(bound: number): number;
}
