/** A broker as the admin API reports it (GET /api/v1/brokers, app/cluster-admin.ts), and as the CLI reads it. */
export interface BrokerStatus {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /**
   * `active`; `draining` (decommissioned, replicas still on it, or still one of the controller's voters);
   * `drained` (decommissioned, holds nothing and votes in no controller election: it may be stopped).
   */
  readonly state: 'active' | 'draining' | 'drained';
  /** Why it drains, when it does: an operator decommissioned it, or it was unreachable longer than cluster.deadBrokerTimeout. */
  readonly drainReason?: 'decommissioned' | 'unreachable';
  /** Whether the answering broker reaches it now. */
  readonly reachable: boolean;
  /** Partitions it holds a replica of, moves to it included. */
  readonly replicas: number;
  /** Partitions it leads, as the answering broker knows. */
  readonly leaders: number;
  /** Partitions moving onto or off it now. */
  readonly moving: number;
  /** One of the controller's voters (a decommissioned one leaves them once it holds nothing). */
  readonly controllerVoter: boolean;
}
