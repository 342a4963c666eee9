/**
 * The span of one Kafka request (docs/tracing.md): started by the request router after the body is
 * decoded, ended with the response. Attributes follow the OpenTelemetry messaging conventions
 * (messaging.system "kafka", destination, partition, offset, consumer group, client id); a Kafka error
 * in the response makes the span's status ERROR with the error's name as error.type.
 *
 * Only a sampled (recording) span gets attributes: an unsampled request costs the sampling decision
 * and, for Produce, a look at the first record's headers of each batch for a `traceparent`.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { RequestHeader } from '../protocol/kafka/request-header.ts';
import { kafkaError } from '../protocol/kafka/error-codes.ts';
import { readRecordsCount, BATCH_HEADER_BYTES } from '../protocol/kafka/record-batch/header.ts';
import { scanHeaderValues, type HeaderScan } from '../protocol/kafka/record-batch/header-scan.ts';
import { parseTraceparent, type RemoteParent } from '../observability/traceparent.ts';
import type { RequestSpan, Tracing } from '../observability/tracing.ts';
import type { BrokerContext } from './context.ts';

/** Child spans of one Produce at most (one per partition); further partitions are only counted. */
const PRODUCE_CHILD_SPANS_MAX = 64;
/** Links of one span at most (the SDK's span limit is the same). */
const LINKS_MAX = 32;
/** How far the error walk goes into a response: a huge Metadata or Fetch answer costs no more. */
const ERROR_WALK_NODES_MAX = 20_000;

const TRACEPARENT = Buffer.from('traceparent');
/** Before sampling: only the first record of each uncompressed batch. */
const FIRST_RECORD: HeaderScan = { key: TRACEPARENT, maxRecords: 1, maxValues: 1, decompress: false };
/** After sampling: every record, compressed batches too, up to one value per link. */
const EVERY_RECORD: HeaderScan = { key: TRACEPARENT, maxRecords: Number.MAX_SAFE_INTEGER, maxValues: LINKS_MAX + 1, decompress: true };

interface ProducePartition {
  readonly index: number;
  readonly records: Buffer | null;
}
interface ProduceBody {
  readonly topicData: readonly { readonly name: string; readonly partitionData: readonly ProducePartition[] }[];
}
interface ProduceAnswer {
  readonly responses?: readonly { readonly name?: string; readonly partitionResponses?: readonly { index?: number; errorCode?: number; baseOffset?: bigint }[] }[];
}
interface FetchBody {
  readonly topics: readonly { readonly topic: string; readonly topicId: string; readonly partitions: readonly { readonly partition: number }[] }[];
}

/** messaging.operation.name and .type, by API; other APIs use their Kafka name and no type. */
const OPERATIONS: { readonly [apiKey: number]: readonly [string, string] } = {
  [API_KEYS.Produce]: ['produce', 'send'],
  [API_KEYS.Fetch]: ['fetch', 'receive'],
  [API_KEYS.OffsetCommit]: ['commit', 'settle'],
  [API_KEYS.TxnOffsetCommit]: ['commit', 'settle'],
};

/** The first valid `traceparent` on the first record of a Produce's batches (request order). */
function producerParent(body: ProduceBody): RemoteParent | null {
  const found: string[] = [];
  for (const topic of body.topicData) {
    for (const p of topic.partitionData) {
      scanHeaderValues(p.records, FIRST_RECORD, found);
      const parent = found.length > 0 ? parseTraceparent(found[0]!) : null;
      if (parent !== null) return parent;
      found.length = 0;
    }
  }
  return null;
}

function sameSpan(a: RemoteParent, b: RemoteParent): boolean {
  return a.traceId === b.traceId && a.spanId === b.spanId;
}

/** Links the span to every other producer span named in the request's records. */
function linkProducers(span: RequestSpan, body: ProduceBody, parent: RemoteParent | null): void {
  const values: string[] = [];
  for (const topic of body.topicData) for (const p of topic.partitionData) scanHeaderValues(p.records, EVERY_RECORD, values);
  const linked: RemoteParent[] = parent === null ? [] : [parent];
  for (const value of values) {
    const target = parseTraceparent(value);
    if (target === null || linked.some((l) => sameSpan(l, target))) continue;
    if (linked.length >= LINKS_MAX + (parent === null ? 0 : 1)) break;
    linked.push(target);
    span.link(target);
  }
}

function recordCount(records: Buffer | null): number {
  return records !== null && records.length >= BATCH_HEADER_BYTES ? readRecordsCount(records, 0) : 0;
}

function setPartition(span: RequestSpan, topic: string, index: number, records: Buffer | null): void {
  span.set('messaging.destination.name', topic);
  span.set('messaging.destination.partition.id', String(index));
  span.set('messaging.batch.message_count', recordCount(records));
}

function failWith(span: RequestSpan, errorCode: number, errors = 1): void {
  const name = kafkaError(errorCode)?.name ?? `KAFKA_ERROR_${errorCode}`;
  span.set('streambus.kafka.error_code', errorCode);
  if (errors > 1) span.set('streambus.kafka.error_count', errors);
  span.fail(name, `${name} (Kafka error ${errorCode})`);
}

/** The first non-zero `errorCode` anywhere in a response, and how many there are. */
function responseErrors(response: unknown): { first: number; count: number } {
  let first = 0;
  let count = 0;
  let nodes = 0;
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || nodes++ > ERROR_WALK_NODES_MAX || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      if (key === 'errorCode' && typeof v === 'number' && v !== 0) {
        if (first === 0) first = v;
        count++;
      } else if (typeof v === 'object') visit(v, depth + 1);
    }
  };
  visit(response, 0);
  return { first, count };
}

/** Names of the topics a request is about (CreateTopics, DeleteTopics, OffsetCommit, configs...). */
function requestTopics(body: Record<string, unknown>): string[] {
  const names: string[] = [];
  const topics = body['topics'];
  if (Array.isArray(topics)) for (const t of topics) if (typeof t?.name === 'string') names.push(t.name);
  const topicNames = body['topicNames'];
  if (Array.isArray(topicNames)) for (const t of topicNames) if (typeof t === 'string') names.push(t);
  const resources = body['resources'];
  // Config resources of type TOPIC (2).
  if (Array.isArray(resources)) for (const r of resources) if (r?.resourceType === 2 && typeof r.resourceName === 'string') names.push(r.resourceName);
  return names;
}

/** One traced request: `finish` ends its span (and its children) with the response or the error. */
export class RequestTrace {
  /** Child spans of a multi-partition Produce; none for anything else (and no array either). */
  private children: { span: RequestSpan; topic: string; index: number }[] | null = null;

  private constructor(
    private readonly span: RequestSpan,
    private readonly apiKey: number,
  ) {}

  static start(tracing: Tracing, ctx: BrokerContext, apiKey: number, apiName: string, header: RequestHeader, body: unknown, apiVersion: number): RequestTrace {
    const parent = apiKey === API_KEYS.Produce ? producerParent(body as ProduceBody) : null;
    const span = tracing.startRequest(apiName, parent);
    const traced = new RequestTrace(span, apiKey);
    if (span.recording) traced.describe(ctx, apiName, header, body, apiVersion, parent);
    return traced;
  }

  private describe(ctx: BrokerContext, apiName: string, header: RequestHeader, body: unknown, apiVersion: number, parent: RemoteParent | null): void {
    const span = this.span;
    const [operation, type] = OPERATIONS[this.apiKey] ?? [apiName, undefined];
    span.set('messaging.system', 'kafka');
    span.set('messaging.operation.name', operation);
    if (type !== undefined) span.set('messaging.operation.type', type);
    span.set('streambus.kafka.api', apiName);
    span.set('streambus.kafka.api_version', apiVersion);
    if (header.clientId) span.set('messaging.client.id', header.clientId);
    const fields = body as Record<string, unknown>;
    if (typeof fields['groupId'] === 'string') span.set('messaging.consumer.group.name', fields['groupId']);
    if (this.apiKey === API_KEYS.Produce) return this.describeProduce(body as ProduceBody, parent);
    if (this.apiKey === API_KEYS.Fetch) return this.describeFetch(ctx, body as FetchBody, apiVersion);
    const topics = requestTopics(fields);
    if (topics.length === 1) {
      span.set('messaging.destination.name', topics[0]!);
      span.rename(`${operation} ${topics[0]!}`);
    } else if (topics.length > 1) span.set('streambus.topic_count', topics.length);
  }

  private describeProduce(body: ProduceBody, parent: RemoteParent | null): void {
    const span = this.span;
    linkProducers(span, body, parent);
    const partitions = body.topicData.reduce((n, t) => n + t.partitionData.length, 0);
    const single = body.topicData.length === 1 ? body.topicData[0]!.name : null;
    if (single !== null) {
      span.set('messaging.destination.name', single);
      span.rename(`produce ${single}`);
    }
    if (partitions === 1) {
      const t = body.topicData[0]!;
      setPartition(span, t.name, t.partitionData[0]!.index, t.partitionData[0]!.records);
      return;
    }
    // Several partitions: one child span each, so each partition's offset and error has its place.
    span.set('streambus.partition_count', partitions);
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        this.children ??= [];
        if (this.children.length >= PRODUCE_CHILD_SPANS_MAX) return;
        const child = span.child(`produce ${t.name}`);
        child.set('messaging.system', 'kafka');
        child.set('messaging.operation.name', 'produce');
        child.set('messaging.operation.type', 'send');
        setPartition(child, t.name, p.index, p.records);
        this.children.push({ span: child, topic: t.name, index: p.index });
      }
    }
  }

  private describeFetch(ctx: BrokerContext, body: FetchBody, apiVersion: number): void {
    const span = this.span;
    // Fetch v13+ names topics by id.
    const name = (t: FetchBody['topics'][number]) => (apiVersion >= 13 ? (ctx.metadata.state.topicById(t.topicId)?.name ?? t.topicId) : t.topic);
    const topics = new Set(body.topics.map(name));
    const partitions = body.topics.reduce((n, t) => n + t.partitions.length, 0);
    if (topics.size === 1) {
      const topic = [...topics][0]!;
      span.set('messaging.destination.name', topic);
      span.rename(`fetch ${topic}`);
      if (partitions === 1) span.set('messaging.destination.partition.id', String(body.topics[0]!.partitions[0]!.partition));
    }
    span.set('streambus.partition_count', partitions);
  }

  /** Ends the span: `response` is the handler's answer (null for acks=0), `error` what it threw. */
  finish(response: unknown, error: unknown): void {
    const span = this.span;
    if (span.recording) {
      if (error !== undefined) {
        const code = (error as { code?: unknown }).code;
        span.fail(typeof code === 'string' ? code : 'Error', error instanceof Error ? error.message : String(error));
      } else if (response !== null && response !== undefined) {
        if (this.apiKey === API_KEYS.Produce) this.finishProduce(response as ProduceAnswer);
        else this.finishGeneric(response);
      }
    }
    if (this.children !== null) for (const c of this.children) c.span.end();
    span.end();
  }

  private finishGeneric(response: unknown): void {
    const errors = responseErrors(response);
    if (this.apiKey === API_KEYS.Fetch) {
      let bytes = 0;
      for (const t of (response as { responses?: { partitions?: { records?: Buffer | null }[] }[] }).responses ?? []) for (const p of t.partitions ?? []) bytes += p.records?.length ?? 0;
      this.span.set('streambus.fetch.bytes', bytes);
    }
    if (errors.count > 0) failWith(this.span, errors.first, errors.count);
  }

  private finishProduce(response: ProduceAnswer): void {
    const children = this.children;
    let firstError = 0;
    let errors = 0;
    for (const t of response.responses ?? []) {
      for (const p of t.partitionResponses ?? []) {
        const errorCode = p.errorCode ?? 0;
        if (errorCode !== 0) {
          if (firstError === 0) firstError = errorCode;
          errors++;
        }
        const target = children === null ? this.span : children.find((c) => c.topic === t.name && c.index === p.index)?.span;
        if (target === undefined) continue;
        if (errorCode !== 0) failWith(target, errorCode);
        else if (p.baseOffset !== undefined && p.baseOffset >= 0n) target.set('messaging.kafka.offset', Number(p.baseOffset));
      }
    }
    if (children !== null && errors > 0) failWith(this.span, firstError, errors);
  }
}
