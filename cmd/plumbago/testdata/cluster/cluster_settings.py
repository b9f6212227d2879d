# graphite-web settings for the scale-out e2e test: a front graphite-web
# with no local data that federates every read to the Plumbago nodes in
# $CLUSTER_SERVERS (comma-separated host:port[?format=...]); the shared part
# is query/oracletest/testdata/graphite_web.py.
import os

import graphite_web

globals().update(graphite_web.settings(os.environ["CLUSTER_DIR"], "cluster-e2e"))
STANDARD_DIRS = []
FIND_CACHE_DURATION = 0

CLUSTER_SERVERS = os.environ["CLUSTER_SERVERS"].split(",")
REMOTE_EXCLUDE_LOCAL = False
REMOTE_STORE_USE_POST = os.environ.get("CLUSTER_USE_POST") == "1"
# A failing node must fail the test, not be skipped for 60 s.
REMOTE_RETRY_DELAY = 0
