"""Settings for the test suite: production settings, with what a local test run must change."""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "k" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The live servers in tests speak plain HTTP; tests/ncii_portal/test_deployment.py checks HTTPS
# behaviour on a real server started with production settings.
os.environ.setdefault("DJANGO_HTTPS", "0")

if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "The tests run on PostgreSQL: run `make test`, which starts one, or set DATABASE_URL."
    )

from ncii_portal.settings import *  # noqa: E402,F403

# Serve static files straight from the source folders, so a test sees the file as edited.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tasks run inline unless a test sends them to the real worker (see tests/hashes/test_tasks.py).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# PBKDF2's deliberate slowness (it guards stored PINs and passwords) only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Live-server threads would otherwise keep connections open past the end of the run, and the test
# database could not be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
