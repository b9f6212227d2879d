# graphite-web settings for the scale-out e2e test: a front graphite-web
# with no local data that federates every read to the Plumbago nodes in
# $CLUSTER_SERVERS (comma-separated host:port[?format=...]).
import os

_d = os.environ["CLUSTER_DIR"]
STORAGE_DIR = _d
WHISPER_DIR = os.path.join(_d, "whisper") + "/"
STANDARD_DIRS = []
LOG_DIR = os.path.join(_d, "log")
INDEX_FILE = os.path.join(_d, "index")
CARBONLINK_HOSTS = []
TIME_ZONE = "UTC"
SECRET_KEY = "cluster-e2e"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(_d, "graphite.db")}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
DEFAULT_CACHE_DURATION = 0
FIND_CACHE_DURATION = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False

CLUSTER_SERVERS = os.environ["CLUSTER_SERVERS"].split(",")
REMOTE_EXCLUDE_LOCAL = False
REMOTE_STORE_USE_POST = os.environ.get("CLUSTER_USE_POST") == "1"
# A failing node must fail the test, not be skipped for 60 s.
REMOTE_RETRY_DELAY = 0
