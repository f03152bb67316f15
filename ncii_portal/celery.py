import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncii_portal.settings")

app = Celery("ncii_portal")
# Every Celery option lives in settings.py under the CELERY_ prefix, next to the rest of the
# environment-driven configuration, so there is one place to read what a deployment runs with.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
