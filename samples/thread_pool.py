#!/usr/bin/python3
"""thread_pool BASE_URL: four worker threads fetch at once, each an answer the server delays
by another amount (400, 100, 300 and 200 ms), and the results are printed as they complete.

The order of the lines is the order in which the threads got their answers, which the
server's delays decide when recorded. A replay has no server and no delays: it prints the
recording's order only if it runs the threads' calls in the order they were recorded. Each
answer carries random bytes, so a replay must also give each thread its own answer.
"""
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed

DELAYS_MS = (400, 100, 300, 200)


def fetch(worker, delay_ms):
    url = f"{sys.argv[1]}/pool/{worker}?delay_ms={delay_ms}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return worker, delay_ms, r.status, r.read().decode().strip()


with ThreadPoolExecutor(max_workers=4) as pool:
    futures = [pool.submit(fetch, w, d) for w, d in enumerate(DELAYS_MS)]
    for f in as_completed(futures):
        worker, delay_ms, status, body = f.result()
        print(f"worker {worker} delay {delay_ms} ms status {status} {body}", flush=True)
