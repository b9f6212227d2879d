# graphite-web settings for the oracle harness: everything lives in
# ORACLE_DIR (a temp dir created by the Go test).
import os

_d = os.environ["ORACLE_DIR"]
STORAGE_DIR = _d
WHISPER_DIR = os.path.join(_d, "whisper") + "/"
STANDARD_DIRS = [WHISPER_DIR]
LOG_DIR = os.path.join(_d, "log")
INDEX_FILE = os.path.join(_d, "index")
CARBONLINK_HOSTS = []
TIME_ZONE = "UTC"
SECRET_KEY = "oracle"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(_d, "graphite.db")}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
DEFAULT_CACHE_DURATION = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
ENFORCE_INPUT_VALIDATION = False

# Cluster mode: no local data, everything read from a Plumbago node.
if os.environ.get("ORACLE_CLUSTER"):
    CLUSTER_SERVERS = [os.environ["ORACLE_CLUSTER"]]
    STANDARD_DIRS = []
    REMOTE_EXCLUDE_LOCAL = False
    if os.environ.get("ORACLE_CLUSTER_FORMAT"):
        CLUSTER_SERVERS = [os.environ["ORACLE_CLUSTER"] + "?format=" + os.environ["ORACLE_CLUSTER_FORMAT"]]
