"""Creates whisper files for the oracle tests with Debian's python3-whisper.

stdin: JSON {"dir": "...", "metrics": [{"name": "a.b.c", "retentions": [[10, 2160]],
        "xff": 0.5, "agg": "average", "points": [[ts, value], ...]}]}
"""
import json
import os
import sys

import whisper

req = json.load(sys.stdin)
for m in req["metrics"]:
    path = os.path.join(req["dir"], *m["name"].split(".")) + ".wsp"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    whisper.create(path, [tuple(r) for r in m["retentions"]], xFilesFactor=m.get("xff", 0.5),
                   aggregationMethod=m.get("agg", "average"))
    if m["points"]:
        whisper.update_many(path, [tuple(p) for p in m["points"]])
