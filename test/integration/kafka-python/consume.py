"""KafkaConsumer without a group: reads every partition of a topic from the beginning to its end."""
import time

from kafka import KafkaConsumer, TopicPartition

from common import config, emit, exit_after, text

cfg = config()
exit_after(cfg['deadline_s'])
consumer = KafkaConsumer(bootstrap_servers=cfg['bootstrap'], client_id='kafka-python-reader', group_id=None, enable_auto_commit=False, request_timeout_ms=15000)
partitions = [TopicPartition(cfg['topic'], p) for p in sorted(consumer.partitions_for_topic(cfg['topic']) or [])]
consumer.assign(partitions)
consumer.seek_to_beginning(*partitions)
ends = consumer.end_offsets(partitions)
records = []
stop_at = time.monotonic() + cfg['read_s']
while time.monotonic() < stop_at and any(consumer.position(tp) < ends[tp] for tp in partitions):
    for tp, batch in consumer.poll(timeout_ms=200).items():
        for r in batch:
            records.append({'partition': r.partition, 'offset': r.offset, 'key': text(r.key), 'value': text(r.value), 'headers': [[k, text(v)] for k, v in r.headers]})
consumer.close()
emit(step='consumed', partitions=len(partitions), ends={tp.partition: ends[tp] for tp in partitions}, records=records)
