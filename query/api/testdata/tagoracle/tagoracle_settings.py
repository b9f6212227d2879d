# graphite-web settings for the tags oracle: a fresh sqlite tag database
# (LocalDatabaseTagDB, graphite-web's default) and whisper tree in
# TAGORACLE_DIR; the shared part is query/oracletest/testdata/graphite_web.py.
import os

import graphite_web

globals().update(graphite_web.settings(os.environ["TAGORACLE_DIR"], "tagoracle"))
TAGDB = "graphite.tags.localdatabase.LocalDatabaseTagDB"
TAGDB_CACHE_DURATION = 0
