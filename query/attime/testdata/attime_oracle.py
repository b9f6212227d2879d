"""Evaluates graphite-web's parseATTime for the Go oracle test.

stdin: JSON {"now": epoch, "tz": "Europe/Berlin", "inputs": [...]}
stdout: JSON list of epoch seconds or null (error), one per input.
"""
import json
import sys
from datetime import datetime

from django.conf import settings
settings.configure(TIME_ZONE="UTC")

import pytz
from graphite.render.attime import parseATTime
import calendar

def epoch(dt):
    return calendar.timegm(dt.utctimetuple())

req = json.load(sys.stdin)
tz = pytz.timezone(req["tz"])
now = datetime.fromtimestamp(req["now"], tz)
out = []
for s in req["inputs"]:
    try:
        out.append(int(epoch(parseATTime(s, tz, now))))
    except Exception:
        out.append(None)
json.dump(out, sys.stdout)
