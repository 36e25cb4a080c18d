#!/usr/bin/env python3
# Started through #!/usr/bin/env: the recorder must follow env's exec into python3.
import os
import time

print(time.time_ns(), os.urandom(6).hex())
