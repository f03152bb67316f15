import itertools

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from hashes.models import HashRecord

pytestmark = pytest.mark.django_db


_seq = itertools.count(1)


def make(**fields) -> HashRecord:
    defaults = {
        "signal_type": "pdq", "value": "ab" * 32, "quality": 80, "modified_at": timezone.now(), "feed_seq": next(_seq)
    }
    return HashRecord.objects.create(**(defaults | fields))


def test_the_database_refuses_a_second_record_for_the_same_hash():
    make()
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_the_same_value_under_another_type_is_another_record():
    make(signal_type="md5", value="ab" * 16, quality=None)
    make(signal_type="pdq", value="ab" * 32)
    assert HashRecord.objects.count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"value": "AB" * 32},  # not canonical
        {"value": "ab" * 16},  # an MD5's length under PDQ
        {"signal_type": "sha1", "value": "ab" * 20},
        {"quality": 101},
        {"status": "deleted"},
        {"status": "withdrawn"},  # withdrawn without a time
    ],
)
def test_the_database_refuses_what_validation_would(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        make(**fields)
