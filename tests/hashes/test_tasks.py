"""The purge task, end to end: sent through a real Redis to a real Celery worker process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.services import case_create, case_withdraw
from hashes.models import HashRecord
from hashes.tasks import purge_withdrawn_hashes
from tests.factories import md5, pdq


@pytest.mark.django_db(transaction=True)
def test_a_worker_purges_hashes_withdrawn_before_the_retention_period(worker, settings):
    expired = case_create(hashes=[pdq()], language="en").case
    recent = case_create(hashes=[md5()], language="en").case
    kept = case_create(hashes=[pdq()], language="en").case
    case_withdraw(case=expired)
    case_withdraw(case=recent)
    long_ago = timezone.now() - timedelta(days=settings.HASH_WITHDRAWN_RETENTION_DAYS + 1)
    expired_ids = list(HashRecord.objects.filter(cases=expired).values_list("id", flat=True))
    HashRecord.objects.filter(id__in=expired_ids).update(withdrawn_at=long_ago)

    result = purge_withdrawn_hashes.delay()
    assert result.get(timeout=60) == 1
    assert not HashRecord.objects.filter(id__in=expired_ids).exists()
    assert HashRecord.objects.filter(cases=recent).get().status == "withdrawn"  # still in the feed as a deletion
    assert HashRecord.objects.filter(cases=kept).get().status == "active"
    # Running again finds nothing more: the task is safe to repeat.
    assert purge_withdrawn_hashes.delay().get(timeout=60) == 0
