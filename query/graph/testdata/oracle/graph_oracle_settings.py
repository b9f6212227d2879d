# graphite-web settings for the graph oracle: everything lives in ORACLE_DIR
# (a temporary directory made by the Go test).
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
GRAPHTEMPLATES_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphTemplates.conf")
