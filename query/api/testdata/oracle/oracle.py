"""Oracle harness: answers HTTP-like requests with Debian's graphite-web.

stdin: JSON {"requests": ["/render?target=...", ...]}
stdout: JSON [{"status": int, "body": str, "content_type": str}, ...]
The whisper tree must already exist under $ORACLE_DIR/whisper.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../oracletest", "testdata")]
import graphite_web

client = graphite_web.client("oracle_settings", os.environ["ORACLE_DIR"])
req = json.load(sys.stdin)
out = []
if req.get("repeat"):
    # Timing mode: run every request `repeat` times, report seconds each.
    import time
    times = []
    for _ in range(req["repeat"]):
        for r in req["requests"]:
            t0 = time.perf_counter()
            resp = client.post(r["path"], r["form"]) if isinstance(r, dict) else client.get(r)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.content[:300]
    json.dump({"times": times}, sys.stdout)
    sys.exit(0)
for r in req["requests"]:
    if isinstance(r, dict):
        resp = client.post(r["path"], r["form"])
    else:
        resp = client.get(r)
    out.append({"status": resp.status_code, "body": resp.content.decode("utf-8", "replace"),
                "content_type": resp.get("Content-Type", "")})
json.dump(out, sys.stdout)
