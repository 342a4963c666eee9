"""One member of a consumer group: subscribes, reports every assignment and record, commits its
positions whenever partitions are taken from it, and on 'stop' (a line on stdin) commits, leaves
the group and exits. The test decides when to stop, from what all members have reported."""
import sys
import threading

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from common import config, emit, exit_after, text

cfg = config()
exit_after(cfg['deadline_s'])
consumer = KafkaConsumer(
    bootstrap_servers=cfg['bootstrap'],
    client_id=cfg['name'],
    group_id=cfg['group'],
    enable_auto_commit=False,
    auto_offset_reset='earliest',
    session_timeout_ms=10000,
    heartbeat_interval_ms=1000,
    request_timeout_ms=15000,
)


def positions():
    return {tp.partition: consumer.position(tp) for tp in consumer.assignment()}


class CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what this member has read before its partitions move, so the next owner resumes there."""

    def on_partitions_revoked(self, revoked):
        if revoked:
            offsets = positions()
            consumer.commit()
            emit(event='revoked', partitions=sorted(tp.partition for tp in revoked), committed=offsets)

    def on_partitions_assigned(self, assigned):
        emit(event='assigned', partitions=sorted(tp.partition for tp in assigned))


stop = threading.Event()


def wait_for_stop():
    for line in sys.stdin:
        if line.strip() == 'stop':
            break
    stop.set()


threading.Thread(target=wait_for_stop, daemon=True).start()
consumer.subscribe([cfg['topic']], listener=CommitOnRevoke())
while not stop.is_set():
    for tp, batch in consumer.poll(timeout_ms=200).items():
        for r in batch:
            emit(event='record', partition=r.partition, offset=r.offset, key=text(r.key), value=text(r.value))
offsets = positions()
consumer.commit()
emit(event='committed', offsets=offsets)
consumer.close(autocommit=False)
emit(event='closed')
