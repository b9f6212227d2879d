"""Dumps graphite-web's /functions metadata (name, function, group, params)
for every SeriesFunction, using inspect.signature (Debian's graphite-web
1.1.8 calls inspect.getargspec, which Python 3.11 removed, so its own
/functions view fails)."""
import inspect
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "../../../oracletest", "testdata")]
import graphite_web
graphite_web.setup("oracle_settings", os.environ["ORACLE_DIR"], migrate=False)
from graphite.functions import SeriesFunctions

out = {}
for name, func in SeriesFunctions().items():
    sig = inspect.signature(func)
    params = list(sig.parameters.values())[1:]
    argformat = "(" + ", ".join(str(p) for p in params) + ")"
    out[name] = {
        "name": name,
        "function": name + argformat,
        "group": getattr(func, "group", "Ungrouped"),
        "params": [p.toJSON() for p in getattr(func, "params", None) or []],
    }
def fix(v):
    # JSON has no Infinity: mark it as the string "inf".
    if isinstance(v, float) and v == float("inf"):
        return "inf"
    if isinstance(v, dict):
        return {k: fix(x) for k, x in v.items()}
    if isinstance(v, list):
        return [fix(x) for x in v]
    return v


json.dump(fix(out), sys.stdout, default=lambda o: o.toJSON() if hasattr(o, "toJSON") else str(o))
