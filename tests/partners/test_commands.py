import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from cases.models import Case
from hashes.models import HashRecord
from partners.models import ApiKey, Membership, Organisation
from partners.services import api_key_authenticate

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_demo_can_run_again_without_duplicating_anything():
    run("seed_demo")
    counts = (Organisation.objects.count(), Case.objects.count(), HashRecord.objects.count(), Membership.objects.count())
    out, _ = run("seed_demo")
    assert (Organisation.objects.count(), Case.objects.count(), HashRecord.objects.count(), Membership.objects.count()) == counts
    assert counts[0] == 2 and counts[1] == 1 and counts[2] >= 1


def test_seed_demo_prints_a_staff_login_that_works():
    out, _ = run("seed_demo")
    line = next(line for line in out.splitlines() if line.startswith("Staff login:"))
    username, password = line.removeprefix("Staff login: ").split("  ")[0].split(" / ")
    # As the admin's login form does: django-axes counts attempts per request.
    user = authenticate(RequestFactory().post("/admin/login/"), username=username, password=password)
    assert user is not None and user.is_staff
    assert user.membership.organisation.slug == "demo-ngo"


def test_seed_demo_fills_help_content_in_every_language(settings):
    from partners.models import HelpEntry

    run("seed_demo")
    ngo = Organisation.objects.get(slug="demo-ngo")
    platform = Organisation.objects.get(slug="demo-platform")
    assert platform.kind == "platform" and ngo.is_operator
    entries = list(HelpEntry.objects.filter(organisation=None))
    assert len(entries) >= 3
    from modeltranslation.utils import build_localized_fieldname as localized

    for code, _name in settings.LANGUAGES:
        for field in ("name", "description", "help_text", "services", "hours", "region"):
            assert getattr(ngo, localized(field, code)), (code, field)
        for entry in entries:
            assert getattr(entry, localized("question", code)) and getattr(entry, localized("answer", code)), code


def test_create_api_key_prints_a_working_key_alone_on_the_last_line():
    run("seed_demo")
    out, err = run("create_api_key", "--organisation", "demo-platform", "--scopes", "fetch,feedback,submit,match")
    key = out.strip().splitlines()[-1]
    assert key.startswith("ncii_") and " " not in key
    api_key = api_key_authenticate(key)
    assert api_key.organisation.slug == "demo-platform"
    assert api_key.scopes == ["feedback", "fetch", "match", "submit"]
    assert key not in err and key.split("_", 2)[2] not in ApiKey.objects.get().digest


@pytest.mark.parametrize("args, message", [
    (["--organisation", "nobody", "--scopes", "fetch"], "No organisation"),
    (["--organisation", "demo-platform", "--scopes", "everything"], "scopes"),
    (["--organisation", "demo-ngo", "--scopes", "fetch"], "platforms only"),
])
def test_create_api_key_explains_what_is_wrong(args, message):
    run("seed_demo")
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()
