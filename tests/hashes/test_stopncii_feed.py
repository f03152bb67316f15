import json

import pytest

from cases.services import case_create, case_withdraw
from hashes.api.stopncii import _record
from hashes.api.stopncii_feed import render_page
from hashes.models import HashRecord
from hashes.selectors import feed_page
from hashes.services import hash_record_review
from partners.models import Feedback
from partners.services import FeedbackItem, feedback_submit
from tests.factories import PlatformFactory, UserFactory, md5, pdq

pytestmark = pytest.mark.django_db


def comparable(record: dict) -> dict:
    # Feedback and case order is not part of the format.
    return {**record, "CSPFeedbacks": sorted(record["CSPFeedbacks"], key=lambda f: f["source"])}


def test_the_page_postgresql_renders_equals_the_general_rendering():
    shared, held, gone = pdq(), pdq(), md5()
    first = case_create(hashes=[shared, gone], language="en").case
    case_create(hashes=[shared, held], language="zh-hant")
    case_withdraw(case=first)
    records = {r.value: r for r in HashRecord.objects.all()}
    hash_record_review(record=records[held["value"]], decision="held", reason="logo", actor=UserFactory())
    for slug, verdict, tags in [("a", "Blocked", ("x", "y")), ("b", "NotBlocked", ())]:
        feedback_submit(
            platform=PlatformFactory(slug=slug), items=[FeedbackItem(records[shared["value"]], verdict, tags)]
        )
    assert Feedback.objects.count() == 2

    page = render_page(after_seq=0, limit=10)
    rows, has_more = feed_page(after_seq=0, limit=10)
    rendered = [comparable(json.loads(text)) for text in page.records]
    assert rendered == [comparable(_record(row)) for row in rows]
    assert {r["hashStatus"] for r in rendered} == {"Active", "Withdrawn", "Deleted"}
    assert page.last_seq == rows[-1].feed_seq and not page.has_more and not has_more
