"""Front graphite-web for the scale-out e2e test (Django test client).

stdin: JSON ["/render?...", "/metrics/find?...", ...]
stdout: JSON [{"status": int, "body": str}, ...]
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../../query/oracletest", "testdata")]
import graphite_web

client = graphite_web.client("cluster_settings", os.environ["CLUSTER_DIR"])
out = []
for r in json.load(sys.stdin):
    resp = client.get(r)
    out.append({"status": resp.status_code, "body": resp.content.decode("utf-8", "replace")})
json.dump(out, sys.stdout)
