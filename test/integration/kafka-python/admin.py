"""KafkaAdminClient: create topics, list them, describe them, delete one, list again."""
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from common import config, emit, exit_after

cfg = config()
exit_after(cfg['deadline_s'])
admin = KafkaAdminClient(bootstrap_servers=cfg['bootstrap'], client_id='kafka-python-admin', request_timeout_ms=10000)
topics = cfg['topics']

created = admin.create_topics([NewTopic(name, num_partitions=n, replication_factor=1) for name, n in topics.items()], timeout_ms=10000)
emit(step='create', errors={name: code for name, code, *_ in created.topic_errors})

emit(step='list', topics=sorted(admin.list_topics()))

described = admin.describe_topics(sorted(topics))
emit(step='describe', topics={
    t['topic']: {'error': t['error_code'], 'partitions': sorted((p['partition'], p['leader'], p['replicas'], p['isr']) for p in t['partitions'])}
    for t in described
})

doomed = cfg['delete']
deleted = admin.delete_topics([doomed], timeout_ms=10000)
emit(step='delete', errors={name: code for name, code in deleted.topic_error_codes})

emit(step='list again', topics=sorted(admin.list_topics()))
admin.close()
emit(step='done')
