import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.db import connection

from cases.services import case_add_hashes, case_create, case_withdraw
from hashes.api.stopncii import _record
from hashes.api.stopncii_feed import render_page
from hashes.models import HashRecord
from hashes.selectors import feed_page
from hashes.services import hash_record_review
from hashes.signal_types import NormalisedHash
from partners.models import Feedback
from partners.services import FeedbackItem, feedback_submit, hash_submissions_create
from tests.factories import PlatformFactory, UserFactory, md5, pdq

pytestmark = pytest.mark.django_db


def comparable(record: dict) -> dict:
    # Feedback and case order is not part of the format.
    return {**record, "CSPFeedbacks": sorted(record["CSPFeedbacks"], key=lambda f: f["source"])}


def test_the_page_postgresql_renders_equals_the_general_rendering():
    # Each kind of change a platform must hear about, each stored in the record's JSON as it happens.
    shared, held, gone, added, found = pdq(), pdq(), md5(), pdq(), pdq()
    first = case_create(hashes=[shared, gone], language="en").case
    second = case_create(hashes=[shared, held], language="zh-hant").case
    case_add_hashes(case=second, hashes=[added])
    hash_submissions_create(
        platform=PlatformFactory(slug="finder"),
        hashes=[NormalisedHash("pdq", found["value"], found["quality"])],
        verdicts=[("Blocked", ("csam-adjacent",))],
    )
    case_withdraw(case=first)
    records = {r.value: r for r in HashRecord.objects.all()}
    hash_record_review(record=records[held["value"]], decision="held", reason="logo", actor=UserFactory())
    for slug, verdict, tags in [("a", "Blocked", ("x", "y")), ("b", "NotBlocked", ())]:
        feedback_submit(
            platform=PlatformFactory(slug=slug), items=[FeedbackItem(records[shared["value"]], verdict, tags)]
        )
    assert Feedback.objects.count() == 3  # two on the shared hash, the finder's on its own

    assert not HashRecord.objects.filter(feed_json__isnull=True).exists()  # read, not rendered now

    page = render_page(after_seq=0, limit=10)
    rows, has_more = feed_page(after_seq=0, limit=10)
    rendered = [comparable(json.loads(text)) for text in page.records]
    assert rendered == [comparable(_record(row)) for row in rows]
    assert {r["hashStatus"] for r in rendered} == {"Active", "Withdrawn", "Deleted"}
    assert page.last_seq == rows[-1].feed_seq and not page.has_more and not has_more
    assert len(rendered) == 5

    # Records stored before the column existed have none: the page renders theirs as it reads,
    # and the migration that added the column stores them.
    HashRecord.objects.update(feed_json=None)
    assert render_page(after_seq=0, limit=10).records == page.records
    migration = importlib.import_module("hashes.migrations.0005_stored_feed_json")
    with connection.schema_editor() as editor:
        migration.render_existing(django_apps, editor)
    assert not HashRecord.objects.filter(feed_json__isnull=True).exists()
    assert render_page(after_seq=0, limit=10).records == page.records
