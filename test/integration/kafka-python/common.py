"""Shared by the kafka-python scripts of test/integration/kafka-python.test.ts.

Each script takes one JSON argument (bootstrap address and what to do), prints its results as JSON
lines on stdout for the test to assert on, and exits on its own when it outlives its deadline, so a
hang in the client shows as a failed run rather than a stuck test. The api_version is never pinned:
the clients' version probe is part of what is tested.
"""
import json
import logging
import os
import sys
import threading


def config():
    """The script's JSON argument."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format='%(asctime)s %(name)s %(levelname)s %(message)s')
    return json.loads(sys.argv[1])


def emit(**fields):
    print(json.dumps(fields), flush=True)


def exit_after(seconds):
    """Ends the whole process (threads included) after `seconds`, with a line saying so."""
    def expire():
        emit(event='deadline', seconds=seconds)
        os._exit(3)
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def text(raw):
    return None if raw is None else raw.decode('utf-8')
