"""Events oracle: answers a sequence of requests with Debian's graphite-web
events app (and /render), against a fresh database in $ORACLE_DIR.

stdin: JSON {"requests": ["/events/get_data?...", {"method": "POST", "path": "/events/",
             "body": "...", "content_type": "application/json"}, ...]}
stdout: JSON [{"status": int, "body": str, "content_type": str}, ...]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["GRAPHITE_SETTINGS_MODULE"] = "oracle_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
os.makedirs(os.path.join(os.environ["ORACLE_DIR"], "log"), exist_ok=True)
os.makedirs(os.path.join(os.environ["ORACLE_DIR"], "whisper"), exist_ok=True)

import logging
logging.disable(logging.CRITICAL)

import django
django.setup()
from django.core.management import call_command
call_command('migrate', run_syncdb=True, verbosity=0)
from django.test import Client

req = json.load(sys.stdin)
client = Client(raise_request_exception=False)
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
                "content_type": resp.get("Content-Type", "")})
json.dump(out, sys.stdout)
