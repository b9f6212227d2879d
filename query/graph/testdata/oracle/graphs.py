"""Graph oracle: renders /render requests with Debian's graphite-web.

stdin: JSON {"requests": ["/render?...", ...], "repeat": 0}
stdout: JSON [{"status": int, "body_b64": str, "content_type": str}, ...]
        or, with repeat > 0, {"seconds": [...], "cpu": [...]}: per request, the
        mean wall and CPU (process_time) seconds of repeat runs
The whisper files must already exist under $ORACLE_DIR/whisper.
"""
import base64
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../oracletest", "testdata")]
import graphite_web

client = graphite_web.client("graph_oracle_settings", os.environ["ORACLE_DIR"])
req = json.load(sys.stdin)
if req.get("repeat"):
    secs, cpu = [], []
    for r in req["requests"]:
        client.get(r)  # warm
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(req["repeat"]):
            resp = client.get(r)
            assert resp.status_code == 200, resp.content[:300]
        secs.append((time.perf_counter() - t0) / req["repeat"])
        cpu.append((time.process_time() - c0) / req["repeat"])
    json.dump({"seconds": secs, "cpu": cpu}, sys.stdout)
    sys.exit(0)
out = []
for r in req["requests"]:
    resp = client.get(r)
    out.append({"status": resp.status_code, "body_b64": base64.b64encode(resp.content).decode(),
                "content_type": resp.get("Content-Type", "")})
json.dump(out, sys.stdout)
