"""`manage.py seed_hashes`: the synthetic feed the benchmarks run on."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from cases.models import Case, CaseHash
from cases.services import case_create
from hashes.models import HashRecord
from hashes.selectors import feed_page
from hashes.signal_types import normalise_hash
from tests.factories import pdq

pytestmark = pytest.mark.django_db


def test_seeded_records_join_the_feed_after_what_was_there_each_in_a_case_nobody_can_open():
    case_create(hashes=[pdq()], language="en")
    out = io.StringIO()
    call_command("seed_hashes", count=120, md5_share=0.25, stdout=out, stderr=io.StringIO())

    assert "Added 120 hash records; the feed now holds 121." in out.getvalue()
    rows, has_more = feed_page(after_seq=0, limit=200)
    assert len(rows) == 121 and not has_more
    seeded = rows[1:]
    assert [r.feed_seq for r in rows] == sorted(r.feed_seq for r in rows)
    assert [r.modified_at for r in rows] == sorted(r.modified_at for r in rows)
    for row in seeded:  # each a well-formed hash, as the API would have accepted it
        assert normalise_hash(signal_type=row.signal_type, value=row.value, quality=row.quality).value == row.value
    assert 10 < sum(r.signal_type == "md5" for r in seeded) < 60
    records = HashRecord.objects.filter(id__in=[r.id for r in seeded])
    assert CaseHash.objects.filter(hash_record__in=records).values("case").distinct().count() == 120
    cases = Case.objects.filter(case_hashes__hash_record__in=records)
    assert not any(check_password(pin, case.pin_hash) for case in cases[:5] for pin in ("", "00000000"))
    assert all(case.status == Case.Status.ACTIVE and case.declarations == {} for case in cases)
