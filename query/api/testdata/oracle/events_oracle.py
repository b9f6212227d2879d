"""Events oracle: answers a sequence of requests with Debian's graphite-web
events app (and /render), against a fresh database in $ORACLE_DIR.

stdin: JSON {"requests": ["/events/get_data?...", {"method": "POST", "path": "/events/",
             "body": "...", "content_type": "application/json"}, ...]}
     optional "cache_duration": DEFAULT_CACHE_DURATION for /render (the cache
     itself is Django's DummyCache, so only the headers show).
stdout: JSON [{"status": int, "body": str, "content_type": str, "cache_control": str}, ...]
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../oracletest", "testdata")]
import graphite_web

os.makedirs(os.path.join(os.environ["ORACLE_DIR"], "whisper"), exist_ok=True)
client = graphite_web.client("oracle_settings", os.environ["ORACLE_DIR"])
req = json.load(sys.stdin)
if "cache_duration" in req:
    from django.conf import settings
    settings.DEFAULT_CACHE_DURATION = req["cache_duration"]
out = []
for r in req["requests"]:
    if isinstance(r, dict):
        extra = {}
        if r.get("accept"):
            extra["HTTP_ACCEPT"] = r["accept"]
        if r.get("method", "GET") == "POST":
            resp = client.generic("POST", r["path"], r.get("body", "").encode("utf-8"),
                                  content_type=r.get("content_type", "application/json"), **extra)
        else:
            resp = client.get(r["path"], **extra)
    else:
        resp = client.get(r)
    out.append({"status": resp.status_code, "body": resp.content.decode("utf-8", "replace"),
                "content_type": resp.get("Content-Type", ""),
                "cache_control": resp.get("Cache-Control", "")})
json.dump(out, sys.stdout)
