"""KafkaProducer with acks='all': N keyed messages with headers, each acknowledged with its offset."""
from kafka import KafkaProducer

from common import config, emit, exit_after

cfg = config()
exit_after(cfg['deadline_s'])
producer = KafkaProducer(bootstrap_servers=cfg['bootstrap'], client_id='kafka-python-producer', acks='all', retries=3, linger_ms=5, request_timeout_ms=10000, max_block_ms=10000)
futures = []
for i in range(cfg['first'], cfg['first'] + cfg['count']):
    headers = [('index', str(i).encode()), ('origin', b'kafka-python')]
    futures.append((i, producer.send(cfg['topic'], key=f'key-{i}'.encode(), value=f'value-{i}'.encode(), headers=headers)))
producer.flush(timeout=30)
acks = []
for i, future in futures:
    meta = future.get(timeout=10)
    acks.append([i, meta.partition, meta.offset])
producer.close(timeout=10)
emit(step='produced', acks=acks)
