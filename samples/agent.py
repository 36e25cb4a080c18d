#!/usr/bin/env python3
"""A toy agent whose every decision depends on the world: the clock and randomness.

Run it twice and it does different things; record it once with agenttrace and every
replay does exactly what the recording did.
"""
import os
import random
import time
import uuid

TOOLS = ["search", "read_file", "run_tests", "ask_llm", "write_patch"]

run_id = uuid.uuid4()
started = time.time()
print(f"run {run_id} started at {time.strftime('%H:%M:%S', time.gmtime(started))}")
for step in range(1, 6):
    tool = random.choice(TOOLS)
    latency_ms = round(random.uniform(40, 900))
    nonce = os.urandom(4).hex()
    print(f"step {step}: {tool:<11} latency {latency_ms:>3} ms  nonce {nonce}")
confidence = random.random()
print(f"decision: {'ship it' if confidence > 0.5 else 'try again'} (confidence {confidence:.3f})")
print(f"elapsed {time.monotonic_ns() % 1000} (ns, low digits)")
