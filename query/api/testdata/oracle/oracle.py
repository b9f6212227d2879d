"""Oracle harness: answers HTTP-like requests with Debian's graphite-web.

stdin: JSON {"requests": ["/render?target=...", ...]}
stdout: JSON [{"status": int, "body": str, "content_type": str}, ...]
The whisper tree must already exist under $ORACLE_DIR/whisper.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["GRAPHITE_SETTINGS_MODULE"] = "oracle_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
os.makedirs(os.path.join(os.environ["ORACLE_DIR"], "log"), exist_ok=True)

import logging
logging.disable(logging.CRITICAL)

# Debian's graphite-web falls back to its bundled umsgpack, which still uses
# collections.Hashable (removed in Python 3.10); restore the alias.
import collections
import collections.abc
collections.Hashable = collections.abc.Hashable

import django
django.setup()
from django.core.management import call_command
call_command('migrate', run_syncdb=True, verbosity=0)
from django.test import Client

req = json.load(sys.stdin)
client = Client(raise_request_exception=False)
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
