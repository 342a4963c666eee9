/**
 * The capacity planner behind `streambus capacity`: the deployment guide's calculations (Capacity
 * Planning, Storage Sizing, Network Bandwidth) and its topology and hardware tables, as one pure
 * function. Every number carries the formula that made it, so an operator can check it by hand.
 *
 * Units: bytes and bits per second, exact numbers; how they are printed (1 KB = 1000 bytes as the
 * guide computes, or binary units) is the caller's choice. The guide's storage example ("10M * 1KB * 7
 * * 3 * 1.5 = 315 GB per broker") computes the whole cluster's storage; per broker it is that divided
 * by the broker count, and the plan says so.
 */

export const SECONDS_PER_DAY = 86_400;
/** The guide's "Add 50% buffer" on storage. */
export const STORAGE_BUFFER = 1.5;
/** The guide's "Add 50% overhead for protocol and replication" on bandwidth. */
export const BANDWIDTH_OVERHEAD = 1.5;

export interface CapacityInput {
  /** Average messages per second over a day (drives storage). */
  readonly messagesPerSec: number;
  /** Peak messages per second (drives bandwidth and broker count); default the average. */
  readonly peakMessagesPerSec?: number;
  readonly messageSizeBytes: number;
  readonly retentionDays: number;
  readonly replicationFactor: number;
  /** Partitions planned in total (optional): replicas and leaders per broker. */
  readonly partitions?: number;
  /** Availability target in percent (99.9, 99.99); default 99.9. */
  readonly availabilityPercent?: number;
  /** Produce latency target, p99 in milliseconds (optional). */
  readonly latencyP99Ms?: number;
}

export type Topology = 'small' | 'medium' | 'large';

/** A row of the guide's hardware tables. */
export interface Hardware {
  readonly cores: number;
  readonly memoryBytes: number;
  readonly storage: 'SSD' | 'NVMe SSD';
  /** The disk size the guide names for this class, or null (the medium cluster names none). */
  readonly diskBytes: number | null;
  readonly networkBitsPerSec: number;
}

/** One computed number, with the formula behind it in words and numbers. */
export interface Step {
  readonly name: string;
  readonly formula: string;
}

export interface CapacityPlan {
  readonly input: Required<Omit<CapacityInput, 'partitions' | 'latencyP99Ms'>> & { readonly partitions: number | null; readonly latencyP99Ms: number | null };
  readonly dailyMessages: number;
  readonly dailyBytes: number;
  readonly retainedBytes: number;
  readonly clusterBytes: number;
  readonly clusterBytesWithBuffer: number;
  readonly perBrokerBytes: number;
  readonly bandwidthBytesPerSec: number;
  readonly bandwidthBitsPerSec: number;
  readonly bandwidthWithOverheadBitsPerSec: number;
  readonly perBrokerBandwidthWithOverheadBitsPerSec: number;
  readonly brokers: number;
  readonly topology: Topology;
  readonly availabilityZones: number;
  readonly hardware: Hardware;
  /** Partition replicas and leaders per broker, when partitions were given. */
  readonly replicasPerBroker: number | null;
  readonly leadersPerBroker: number | null;
  /** Why each decision was made, in the order made. */
  readonly steps: readonly Step[];
  /** Warnings: inputs beyond what the guide's tables cover, limits exceeded. */
  readonly notes: readonly string[];
}

const GB = 1e9;
const TB = 1e12;
const GBIT = 1e9;

/** The guide's topologies: brokers, message rate they carry, and hardware (Cluster Topologies, Hardware Requirements). */
export const TOPOLOGIES: Readonly<Record<Topology, { readonly brokers: number; readonly messagesPerSec: number; readonly availabilityZones: number; readonly hardware: Hardware }>> = {
  small: { brokers: 1, messagesPerSec: 5_000, availabilityZones: 1, hardware: { cores: 2, memoryBytes: 4 * GB, storage: 'SSD', diskBytes: 50 * GB, networkBitsPerSec: 1 * GBIT } },
  medium: { brokers: 3, messagesPerSec: 50_000, availabilityZones: 1, hardware: { cores: 4, memoryBytes: 8 * GB, storage: 'SSD', diskBytes: null, networkBitsPerSec: 10 * GBIT } },
  large: { brokers: 5, messagesPerSec: 100_000, availabilityZones: 3, hardware: { cores: 8, memoryBytes: 16 * GB, storage: 'NVMe SSD', diskBytes: 1 * TB, networkBitsPerSec: 10 * GBIT } },
};

/** Replicas per broker the cluster benchmark ran with (3,000 partitions, RF 3, 3 brokers: bench/results/cluster.json). */
export const TESTED_REPLICAS_PER_BROKER = 3_000;

/** What is wrong with `input`, or null. */
export function capacityInputProblem(input: CapacityInput): string | null {
  const positive = (name: string, v: number | undefined, integer = false) =>
    v === undefined || (Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v))) ? null : `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`;
  return (
    positive('messages per second', input.messagesPerSec) ??
    positive('peak messages per second', input.peakMessagesPerSec) ??
    positive('message size', input.messageSizeBytes) ??
    positive('retention days', input.retentionDays) ??
    positive('replication factor', input.replicationFactor, true) ??
    positive('partitions', input.partitions, true) ??
    positive('latency target', input.latencyP99Ms) ??
    (input.availabilityPercent !== undefined && !(input.availabilityPercent > 0 && input.availabilityPercent < 100) ? `availability must be a percentage below 100, got ${input.availabilityPercent}` : null) ??
    (input.peakMessagesPerSec !== undefined && input.peakMessagesPerSec < input.messagesPerSec ? `the peak (${input.peakMessagesPerSec} messages/s) cannot be below the average (${input.messagesPerSec})` : null)
  );
}

export function planCapacity(input: CapacityInput): CapacityPlan {
  const problem = capacityInputProblem(input);
  if (problem !== null) throw new RangeError(problem);
  const rate = input.messagesPerSec;
  const peak = input.peakMessagesPerSec ?? rate;
  const size = input.messageSizeBytes;
  const rf = input.replicationFactor;
  const availability = input.availabilityPercent ?? 99.9;
  const steps: Step[] = [];
  const notes: string[] = [];
  const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });

  const dailyMessages = rate * SECONDS_PER_DAY;
  steps.push({ name: 'daily volume', formula: `${n(rate)} msg/s * 86,400 s = ${n(dailyMessages)} messages/day` });
  const dailyBytes = dailyMessages * size;
  steps.push({ name: 'daily storage', formula: `${n(dailyMessages)} messages * ${n(size)} B = ${n(dailyBytes)} B` });
  const retainedBytes = dailyBytes * input.retentionDays;
  steps.push({ name: 'retained (one copy)', formula: `${n(dailyBytes)} B * ${n(input.retentionDays)} days = ${n(retainedBytes)} B` });
  const clusterBytes = retainedBytes * rf;
  steps.push({ name: 'cluster storage', formula: `${n(retainedBytes)} B * replication factor ${rf} = ${n(clusterBytes)} B` });
  const clusterBytesWithBuffer = clusterBytes * STORAGE_BUFFER;
  steps.push({ name: 'cluster storage with buffer', formula: `${n(clusterBytes)} B * ${STORAGE_BUFFER} = ${n(clusterBytesWithBuffer)} B (the whole cluster, not per broker)` });

  const bandwidthBytesPerSec = peak * size * (1 + rf);
  steps.push({ name: 'bandwidth', formula: `${n(peak)} msg/s (peak) * ${n(size)} B * (1 + ${rf}) = ${n(bandwidthBytesPerSec)} B/s` });
  const bandwidthBitsPerSec = bandwidthBytesPerSec * 8;
  const bandwidthWithOverheadBitsPerSec = bandwidthBitsPerSec * BANDWIDTH_OVERHEAD;
  steps.push({ name: 'bandwidth with overhead', formula: `${n(bandwidthBytesPerSec)} B/s * 8 = ${n(bandwidthBitsPerSec)} bit/s; * ${BANDWIDTH_OVERHEAD} = ${n(bandwidthWithOverheadBitsPerSec)} bit/s` });

  // Topology: the smallest of the guide's that carries the peak, meets the availability target and
  // holds the replication factor.
  let topology: Topology;
  const oneSmallBroker = rf === 1 && availability < 99.9 && peak <= TOPOLOGIES.small.messagesPerSec;
  if (oneSmallBroker && bandwidthWithOverheadBitsPerSec <= TOPOLOGIES.small.hardware.networkBitsPerSec) topology = 'small';
  else if (availability < 99.99 && peak <= TOPOLOGIES.medium.messagesPerSec) topology = 'medium';
  else topology = 'large';
  const why =
    topology === 'small'
      ? `replication factor 1, availability ${availability}% (below 99.9%) and a peak within ${n(TOPOLOGIES.small.messagesPerSec)} msg/s`
      : topology === 'medium'
        ? `a peak within ${n(TOPOLOGIES.medium.messagesPerSec)} msg/s and availability below 99.99%`
        : availability >= 99.99
          ? `availability ${availability}% needs brokers across 3 availability zones`
          : `a peak above ${n(TOPOLOGIES.medium.messagesPerSec)} msg/s`;
  steps.push({ name: 'topology', formula: `${topology} cluster (the guide's Cluster Topologies): ${why}` });
  const t = TOPOLOGIES[topology];
  if (rf > 1 && availability < 99.9) notes.push(`availability ${availability}% is below what the guide's production topologies target (99.9%); the plan still replicates ${rf} times`);
  if (rf === 1 && topology !== 'small') notes.push('replication factor 1: a broker lost loses its partitions; the guide\'s production topologies use 3');

  // Brokers: the topology's count, more when the peak is past its rate (scaled at the guide's large
  // cluster's rate per broker), never fewer than the replication factor.
  const perBrokerRate = TOPOLOGIES.large.messagesPerSec / TOPOLOGIES.large.brokers;
  let brokers = t.brokers;
  if (topology === 'large' && peak > TOPOLOGIES.large.messagesPerSec) {
    brokers = Math.max(brokers, Math.ceil(peak / perBrokerRate));
    steps.push({ name: 'brokers for the peak', formula: `ceil(${n(peak)} msg/s / ${n(perBrokerRate)} msg/s per broker (100,000 / 5, the guide's large cluster)) = ${brokers}` });
    notes.push(`past 100,000 msg/s the guide gives no table; brokers are scaled linearly at ${n(perBrokerRate)} msg/s each: measure before relying on it`);
  }
  if (brokers < rf) {
    steps.push({ name: 'brokers for the replication factor', formula: `replication factor ${rf} needs ${rf} brokers (one replica each)` });
    brokers = rf;
  }
  // Network: each broker's share of the traffic must fit its network interface.
  const nic = t.hardware.networkBitsPerSec;
  const forNetwork = Math.ceil(bandwidthWithOverheadBitsPerSec / nic);
  if (forNetwork > brokers) {
    steps.push({ name: 'brokers for the network', formula: `ceil(${n(bandwidthWithOverheadBitsPerSec)} bit/s / ${n(nic)} bit/s per broker) = ${forNetwork}` });
    brokers = forNetwork;
  }
  const perBrokerBytes = clusterBytesWithBuffer / brokers;
  steps.push({ name: 'storage per broker', formula: `${n(clusterBytesWithBuffer)} B / ${brokers} brokers = ${n(perBrokerBytes)} B` });
  const perBrokerBandwidthWithOverheadBitsPerSec = bandwidthWithOverheadBitsPerSec / brokers;
  steps.push({ name: 'bandwidth per broker', formula: `${n(bandwidthWithOverheadBitsPerSec)} bit/s / ${brokers} brokers = ${n(perBrokerBandwidthWithOverheadBitsPerSec)} bit/s` });

  let hardware: Hardware = t.hardware;
  if (input.latencyP99Ms !== undefined && input.latencyP99Ms <= 10 && hardware.storage !== 'NVMe SSD') {
    hardware = { ...hardware, storage: 'NVMe SSD' };
    steps.push({ name: 'storage type', formula: `a p99 target of ${n(input.latencyP99Ms)} ms (10 ms or less): NVMe SSD, as the guide's large cluster (every acks=all write waits for an fsync on a majority)` });
  }
  if (hardware.diskBytes !== null && perBrokerBytes > hardware.diskBytes) {
    const atTableDisk = Math.ceil(clusterBytesWithBuffer / hardware.diskBytes);
    notes.push(`each broker needs ${n(perBrokerBytes)} B of disk, more than the ${n(hardware.diskBytes)} B of the guide's hardware table: provision larger disks (or ${atTableDisk} brokers would keep it within the table)`);
  }

  let replicasPerBroker: number | null = null;
  let leadersPerBroker: number | null = null;
  if (input.partitions !== undefined) {
    replicasPerBroker = Math.ceil((input.partitions * rf) / brokers);
    leadersPerBroker = Math.ceil(input.partitions / brokers);
    steps.push({ name: 'replicas per broker', formula: `ceil(${n(input.partitions)} partitions * ${rf} / ${brokers} brokers) = ${replicasPerBroker}; leaders ceil(${n(input.partitions)} / ${brokers}) = ${leadersPerBroker}` });
    if (replicasPerBroker > TESTED_REPLICAS_PER_BROKER) notes.push(`${n(replicasPerBroker)} partition replicas per broker is more than the ${n(TESTED_REPLICAS_PER_BROKER)} the cluster benchmark ran with`);
  }

  return {
    input: {
      messagesPerSec: rate,
      peakMessagesPerSec: peak,
      messageSizeBytes: size,
      retentionDays: input.retentionDays,
      replicationFactor: rf,
      partitions: input.partitions ?? null,
      availabilityPercent: availability,
      latencyP99Ms: input.latencyP99Ms ?? null,
    },
    dailyMessages,
    dailyBytes,
    retainedBytes,
    clusterBytes,
    clusterBytesWithBuffer,
    perBrokerBytes,
    bandwidthBytesPerSec,
    bandwidthBitsPerSec,
    bandwidthWithOverheadBitsPerSec,
    perBrokerBandwidthWithOverheadBitsPerSec,
    brokers,
    topology,
    availabilityZones: t.availabilityZones,
    hardware,
    replicasPerBroker,
    leadersPerBroker,
    steps,
    notes,
  };
}
