"""Tags oracle: runs a sequence of requests through Debian's graphite-web
(one process, so tag database changes carry over between requests).

stdin: JSON {"whisper": [{"name", "step", "points": [[ts, v], ...]}],
             "requests": [{"method", "path", "form"}]}
Whisper files are created where carbon puts tagged series
(TaggedSeries.encode with the readable _DOT_ file name, or the hash-only
name, carbon's default, when "hash_only" is true).
stdout: JSON [{"status": int, "body": str, "content_type": str}, ...]
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../oracletest", "testdata")]
import graphite_web
_d = os.environ["TAGORACLE_DIR"]
client = graphite_web.client("tagoracle_settings", _d)

req = json.load(sys.stdin)

import whisper
from graphite.tags.utils import TaggedSeries

for m in req.get("whisper", []):
    rel = TaggedSeries.encode(m["name"], sep=os.sep, hash_only=m.get("hash_only", False)) + ".wsp"
    path = os.path.join(_d, "whisper", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    whisper.create(path, [(m["step"], m["count"])], xFilesFactor=0.5, aggregationMethod="average")
    whisper.update_many(path, [tuple(p) for p in m["points"]])

out = []
for r in req["requests"]:
    method = r.get("method", "GET")
    if method == "GET":
        resp = client.get(r["path"])
    elif method == "POST":
        resp = client.post(r["path"], r.get("form") or {})
    else:
        resp = client.generic(method, r["path"])
    out.append({"status": resp.status_code, "body": resp.content.decode("utf-8", "replace"),
                "content_type": resp.get("Content-Type", "")})
json.dump(out, sys.stdout)
