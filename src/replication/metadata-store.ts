/**
 * The single-broker controller: applies metadata commands to ClusterState and persists a snapshot after
 * each change, before answering. (With replication this becomes Raft group 0; the state machine stays.)
 * Producer ids are handed out from blocks recorded in metadata first, so an id is never reused, even
 * after a crash: a restart continues after the last persisted block.
 */
import { ClusterState, type MetadataCommand, type MetadataResult, type ClusterSnapshot } from '../metadata/cluster-state.ts';
import { ProducerIdBlocks, type MetadataService } from './metadata-service.ts';

/** Durable storage for one small document. `save` resolves only once the text is durable (atomic replace). */
export interface SnapshotPersistence {
  load(): Promise<string | null>;
  save(text: string): Promise<void>;
}

export class MetadataStore implements MetadataService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly producerIds = new ProducerIdBlocks((cmd) => this.submit(cmd));
  private listeners: ((cmd: MetadataCommand) => void)[] = [];

  private constructor(
    public state: ClusterState,
    private readonly persistence: SnapshotPersistence,
  ) {}

  /** brokerId: this broker, which holds every replica while no broker has registered (see ClusterState). */
  static async open(persistence: SnapshotPersistence, newClusterId: () => string, brokerId: number): Promise<MetadataStore> {
    const text = await persistence.load();
    const state = text ? ClusterState.restore(JSON.parse(text) as ClusterSnapshot, brokerId) : new ClusterState(newClusterId(), brokerId);
    const store = new MetadataStore(state, persistence);
    if (!text) await persistence.save(JSON.stringify(state.snapshot()));
    return store;
  }

  /** Called after every applied command (topic created, deleted, ...), in order. */
  onChange(listener: (cmd: MetadataCommand) => void): void {
    this.listeners.push(listener);
  }

  /** Applies and persists one command; commands are serialised, so each sees the previous one's effect. */
  submit(cmd: MetadataCommand): Promise<MetadataResult> {
    const run = this.queue.then(async () => {
      const result = this.state.apply(cmd);
      if (result.error) return result;
      await this.persistence.save(JSON.stringify(this.state.snapshot()));
      for (const l of this.listeners) l(cmd);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A producer id never handed out before. */
  nextProducerId(): Promise<bigint> {
    return this.producerIds.nextProducerId();
  }
}
