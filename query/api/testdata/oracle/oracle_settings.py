# graphite-web settings for the oracle harness: everything lives in
# ORACLE_DIR (a temp dir created by the Go test); the shared part is
# query/oracletest/testdata/graphite_web.py.
import os

import graphite_web

globals().update(graphite_web.settings(os.environ["ORACLE_DIR"], "oracle"))
ENFORCE_INPUT_VALIDATION = False

# Cluster mode: no local data, everything read from a Plumbago node.
if os.environ.get("ORACLE_CLUSTER"):
    CLUSTER_SERVERS = [os.environ["ORACLE_CLUSTER"]]
    STANDARD_DIRS = []
    REMOTE_EXCLUDE_LOCAL = False
    if os.environ.get("ORACLE_CLUSTER_FORMAT"):
        CLUSTER_SERVERS = [os.environ["ORACLE_CLUSTER"] + "?format=" + os.environ["ORACLE_CLUSTER_FORMAT"]]
