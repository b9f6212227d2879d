"""Front graphite-web for the scale-out e2e test (Django test client).

stdin: JSON ["/render?...", "/metrics/find?...", ...]
stdout: JSON [{"status": int, "body": str}, ...]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["GRAPHITE_SETTINGS_MODULE"] = "cluster_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
os.makedirs(os.path.join(os.environ["CLUSTER_DIR"], "log"), exist_ok=True)

import logging
logging.disable(logging.CRITICAL)

# Debian's bundled umsgpack still uses collections.Hashable (gone in 3.10).
import collections
import collections.abc
collections.Hashable = collections.abc.Hashable

import django
django.setup()
from django.core.management import call_command
call_command("migrate", run_syncdb=True, verbosity=0)
from django.test import Client

client = Client(raise_request_exception=False)
out = []
for r in json.load(sys.stdin):
    resp = client.get(r)
    out.append({"status": resp.status_code, "body": resp.content.decode("utf-8", "replace")})
json.dump(out, sys.stdout)
