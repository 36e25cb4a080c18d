# The values the issue names: each differs between live runs and must replay exactly.
import os
import random
import time
import uuid

print(random.random())
print(time.time_ns())
print(os.urandom(8).hex())
print(uuid.uuid4())
print(hash("x"))
