# graphite-web settings for the graph oracle: everything lives in ORACLE_DIR
# (a temporary directory made by the Go test); the shared part is
# query/oracletest/testdata/graphite_web.py.
import os

import graphite_web

globals().update(graphite_web.settings(os.environ["ORACLE_DIR"], "oracle"))
ENFORCE_INPUT_VALIDATION = False
GRAPHTEMPLATES_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphTemplates.conf")
