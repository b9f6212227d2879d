"""What every graphite-web oracle script shares: the settings of a
graphite-web whose whole state (whisper tree, sqlite database, logs) lives in
one temporary directory made by the Go test, and the set-up of Django's test
client on those settings.

A script puts this directory on sys.path (next to its own) and calls
setup(); its settings module starts with
    globals().update(graphite_web.settings(directory, secret_key))
and adds its own few keys.
"""
import os


def settings(d, secret_key):
    """graphite-web settings with everything under directory d."""
    whisper_dir = os.path.join(d, "whisper") + "/"
    return {
        "STORAGE_DIR": d,
        "WHISPER_DIR": whisper_dir,
        "STANDARD_DIRS": [whisper_dir],
        "LOG_DIR": os.path.join(d, "log"),
        "INDEX_FILE": os.path.join(d, "index"),
        "CARBONLINK_HOSTS": [],
        "TIME_ZONE": "UTC",
        "SECRET_KEY": secret_key,
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(d, "graphite.db")}},
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
        "DEFAULT_CACHE_DURATION": 0,
        "LOG_RENDERING_PERFORMANCE": False,
        "LOG_CACHE_PERFORMANCE": False,
    }


def setup(settings_module, d, migrate=True):
    """Starts Django on graphite-web with settings_module (whose state is in
    directory d) and, with migrate, creates its database."""
    os.environ["GRAPHITE_SETTINGS_MODULE"] = settings_module
    os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
    os.makedirs(os.path.join(d, "log"), exist_ok=True)

    import logging
    logging.disable(logging.CRITICAL)

    # Debian's graphite-web falls back to its bundled umsgpack, which still
    # uses collections.Hashable (removed in Python 3.10); restore the alias.
    import collections
    import collections.abc
    collections.Hashable = collections.abc.Hashable

    import django
    django.setup()
    if migrate:
        from django.core.management import call_command
        call_command("migrate", run_syncdb=True, verbosity=0)


def client(settings_module, d):
    """setup() with the database, then Django's test client."""
    setup(settings_module, d)
    from django.test import Client
    return Client(raise_request_exception=False)
