from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import hash_records_purge_withdrawn


@shared_task(
    autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5, acks_late=True
)
def purge_withdrawn_hashes() -> int:
    """Delete hashes withdrawn longer ago than the retention period; safe to run any number of times."""
    cutoff = timezone.now() - timedelta(days=settings.HASH_WITHDRAWN_RETENTION_DAYS)
    return hash_records_purge_withdrawn(withdrawn_before=cutoff)
