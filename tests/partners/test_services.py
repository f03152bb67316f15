import pytest
from django.core.exceptions import ValidationError

from partners.models import ApiKey, AuditEvent
from partners.services import api_key_authenticate, api_key_issue, api_key_revoke, audit_record
from tests.factories import NgoFactory, PlatformFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_issued_key_works_and_only_its_digest_is_stored():
    staff = UserFactory()
    issued = api_key_issue(organisation=PlatformFactory(), scopes=["fetch", "match"], actor=staff)
    stored = ApiKey.objects.get()
    secret_part = issued.secret.split("_", 2)[2]
    assert secret_part not in (stored.digest, stored.salt) and issued.secret not in str(stored.__dict__)
    assert stored.scopes == ["fetch", "match"] and stored.created_by == staff
    assert api_key_authenticate(issued.secret) == stored
    assert ApiKey.objects.get().last_used_at is not None


def test_two_keys_with_the_same_secret_part_have_different_digests():
    platform = PlatformFactory()
    a = api_key_issue(organisation=platform, scopes=["fetch"], source="command").api_key
    b = api_key_issue(organisation=platform, scopes=["fetch"], source="command").api_key
    assert a.salt != b.salt and a.prefix != b.prefix


@pytest.mark.parametrize("mangle", [
    lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # wrong secret
    lambda s: s.replace("ncii_", "xxxx_", 1),
    lambda s: "ncii_unknownpre_" + s.split("_", 2)[2],
    lambda s: "",
    lambda s: None,
])
def test_a_wrong_key_is_refused(mangle):
    issued = api_key_issue(organisation=PlatformFactory(), scopes=["fetch"], source="command")
    assert api_key_authenticate(mangle(issued.secret)) is None


def test_a_revoked_key_stops_working_at_once_and_the_revocation_is_audited():
    staff = UserFactory()
    issued = api_key_issue(organisation=PlatformFactory(), scopes=["fetch"], actor=staff)
    api_key_revoke(api_key=issued.api_key, actor=staff)
    assert api_key_authenticate(issued.secret) is None
    assert list(AuditEvent.objects.order_by("id").values_list("action", "actor")) == [
        ("api_key.issue", staff.pk), ("api_key.revoke", staff.pk)
    ]
    api_key_revoke(api_key=issued.api_key, actor=staff)
    assert AuditEvent.objects.count() == 2


def test_a_deactivated_platform_loses_access():
    platform = PlatformFactory()
    issued = api_key_issue(organisation=platform, scopes=["fetch"], source="command")
    platform.is_active = False
    platform.save()
    assert api_key_authenticate(issued.secret) is None


def test_keys_go_to_platforms_only_with_known_scopes():
    with pytest.raises(ValidationError):
        api_key_issue(organisation=NgoFactory(), scopes=["fetch"], source="command")
    with pytest.raises(ValidationError):
        api_key_issue(organisation=PlatformFactory(), scopes=["fetch", "admin"], source="command")
    with pytest.raises(ValidationError):
        api_key_issue(organisation=PlatformFactory(), scopes=[], source="command")
    assert not ApiKey.objects.exists()


def test_a_staff_action_cannot_be_audited_without_its_actor():
    with pytest.raises(ValueError):
        audit_record(actor=None, action="case.view")
    with pytest.raises(ValueError):
        api_key_issue(organisation=PlatformFactory(), scopes=["fetch"])
    assert not ApiKey.objects.exists()
