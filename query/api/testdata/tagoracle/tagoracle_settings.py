# graphite-web settings for the tags oracle: a fresh sqlite tag database
# (LocalDatabaseTagDB, graphite-web's default) and whisper tree in TAGORACLE_DIR.
import os

_d = os.environ["TAGORACLE_DIR"]
STORAGE_DIR = _d
WHISPER_DIR = os.path.join(_d, "whisper") + "/"
STANDARD_DIRS = [WHISPER_DIR]
LOG_DIR = os.path.join(_d, "log")
INDEX_FILE = os.path.join(_d, "index")
CARBONLINK_HOSTS = []
TIME_ZONE = "UTC"
SECRET_KEY = "tagoracle"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(_d, "graphite.db")}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
TAGDB = "graphite.tags.localdatabase.LocalDatabaseTagDB"
TAGDB_CACHE_DURATION = 0
DEFAULT_CACHE_DURATION = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
