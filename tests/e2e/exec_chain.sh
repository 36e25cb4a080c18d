# A script started through '#!/usr/bin/env python3': env execs python3 in the same
# process, and the recording follows it into the new image.
. "$(dirname "$0")/lib.sh"
differs_live exec "$SRCDIR/samples/env_script.py"
record_replay exec "$SRCDIR/samples/env_script.py"
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
root = [p for p in s["streams"] if p["root"]][0]
assert root["images"] == 2, f"expected env then python3 in one process, got {root}"
PY
