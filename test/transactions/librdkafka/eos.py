"""A consume-transform-produce loop with librdkafka's exactly-once API (confluent-kafka-python).

Reads the input topic (read_committed, no auto commit), and for each batch: begins a transaction,
writes every record upper-cased to the output topic with the input's offset in a header, sends the
consumer's positions with send_offsets_to_transaction, and commits. Every `abort_every`-th batch is
aborted on purpose instead, after which the consumer goes back to its committed offsets and the batch
is processed again. An abortable error (the broker killed under it, say) is handled the same way;
a retriable one retries the commit; a fatal one ends the script with a line saying so.

Argument (JSON): bootstrap, input, output, group, transactional_id, expected (input records to
process), abort_every (0: never), deadline_s, and optionally debug (librdkafka's debug contexts, to
stderr). Prints JSON lines: {"event": "committed", "records": n, "total": t} after each commit,
{"event": "aborted"} after each abort, {"event": "commit-retry"} for each retried commit,
{"event": "idle"} after 10 s without input, {"event": "done", "total": t}.
"""
import json
import os
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    cfg = json.loads(sys.argv[1])
    timer = threading.Timer(cfg['deadline_s'], lambda: (emit(event='deadline'), os._exit(3)))
    timer.daemon = True
    timer.start()
    consumer = Consumer({
        'bootstrap.servers': cfg['bootstrap'],
        'group.id': cfg['group'],
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'isolation.level': 'read_committed',
        'session.timeout.ms': 10000,
    })
    debug = {'debug': cfg['debug']} if cfg.get('debug') else {}
    producer = Producer({
        'bootstrap.servers': cfg['bootstrap'],
        'transactional.id': cfg['transactional_id'],
        'transaction.timeout.ms': 30000,
        'linger.ms': 5,
        **debug,
    })
    producer.init_transactions(30)
    consumer.subscribe([cfg['input']])
    total = 0
    batches = 0
    idle_since = time.monotonic()
    while total < cfg['expected']:
        messages = [m for m in consumer.consume(num_messages=50, timeout=0.5) if m.error() is None]
        if not messages:
            if time.monotonic() - idle_since > 10:
                emit(event='idle', seconds=10)
                idle_since = time.monotonic()
            continue
        idle_since = time.monotonic()
        batches += 1
        try:
            producer.begin_transaction()
            for m in messages:
                producer.produce(cfg['output'], value=m.value().upper(), key=m.key(), headers=[('src', str(m.offset()).encode())], partition=m.partition())
            positions = consumer.position(consumer.assignment())
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
            if cfg['abort_every'] and batches % cfg['abort_every'] == 0:
                producer.abort_transaction(30)
                emit(event='aborted', records=len(messages))
                rewind(consumer)
                continue
            commit(producer)
            total += len(messages)
            emit(event='committed', records=len(messages), total=total)
        except KafkaException as e:
            err = e.args[0]
            if err.fatal():
                emit(event='fatal', error=str(err))
                os._exit(2)
            emit(event='abortable', error=str(err))
            producer.abort_transaction(60)
            rewind(consumer)
    emit(event='done', total=total)
    consumer.close()
    producer.flush(10)
    os._exit(0)


def commit(producer):
    """Commits, retrying while librdkafka says the commit may be retried (a broker briefly away)."""
    for _ in range(60):
        try:
            producer.commit_transaction(30)
            return
        except KafkaException as e:
            err = e.args[0]
            if not err.retriable():
                raise
            emit(event='commit-retry', error=str(err))
            time.sleep(0.5)
    raise RuntimeError('commit kept failing')


def rewind(consumer):
    """Back to the committed offsets of the group (earliest where none), so the batch is processed again."""
    assignment = consumer.assignment()
    committed = consumer.committed(assignment, 30)
    for tp in committed:
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))


main()
