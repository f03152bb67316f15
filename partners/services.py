"""Writes for partners: API keys, the audit trail, platforms' feedback and hashes, webhooks."""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ApiKey,
    AuditEvent,
    Feedback,
    HashSubmission,
    Membership,
    Organisation,
    WebhookDelivery,
    WebhookEndpoint,
)
from .selectors import api_key_by_prefix

if TYPE_CHECKING:
    from hashes.models import HashRecord
    from hashes.signal_types import NormalisedHash

API_KEY_PREFIX = "ncii"
_PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_PREFIX_LENGTH = 10


def audit_record(
    *,
    actor,
    action: str,
    organisation: Organisation | None = None,
    case=None,
    target: Model | None = None,
    details: dict | None = None,
    source: str = "admin",
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction of the change it records."""
    if actor is None and source == "admin":
        raise ValueError("a staff action must name the staff member who took it")
    return AuditEvent.objects.create(
        actor=actor,
        source=source,
        action=action,
        organisation=organisation,
        case=case,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
    )


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    # Shown once to whoever issued it; only the digest is kept.
    secret: str


def _digest(salt: str, secret: str) -> str:
    # Keys carry 256 random bits, so a slow password hash would add nothing against guessing and
    # would cost every API request; a salted HMAC-SHA256 keeps a leaked table useless.
    return hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()


def _valid_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in chosen if s not in ApiKey.Scope.values]
    if unknown or not chosen:
        raise ValidationError(
            _("Choose one or more scopes from: %(scopes)s."),
            code="invalid_scopes",
            params={"scopes": ", ".join(ApiKey.Scope.values)},
        )
    return chosen


def api_key_issue(
    *, organisation: Organisation, scopes: Iterable[str], name: str = "", actor=None, source: str = "admin"
) -> NewApiKey:
    """Create a key for a platform and return it with its secret, which is never shown again."""
    if organisation.kind != Organisation.Kind.PLATFORM:
        raise ValidationError(_("API keys are issued to platforms only."), code="not_a_platform")
    chosen = _valid_scopes(scopes)
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
    secret_part = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            organisation=organisation,
            name=name,
            prefix=prefix,
            salt=salt,
            digest=_digest(salt, secret_part),
            scopes=chosen,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            source=source,
            action="api_key.issue",
            organisation=organisation,
            target=api_key,
            details={"prefix": prefix, "scopes": chosen},
        )
    return NewApiKey(api_key=api_key, secret=f"{API_KEY_PREFIX}_{prefix}_{secret_part}")


def api_key_revoke(*, api_key: ApiKey, actor=None, source: str = "admin") -> ApiKey:
    """Revoke a key at once. Revoking a revoked key changes nothing."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            source=source,
            action="api_key.revoke",
            organisation=locked.organisation,
            target=locked,
            details={"prefix": locked.prefix},
        )
    return locked


def api_key_authenticate(raw: str) -> ApiKey | None:
    """Return the active key that this secret belongs to, recording its use, or None."""
    if not isinstance(raw, str):
        return None
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    _label, prefix, secret_part = parts
    api_key = api_key_by_prefix(prefix)
    if api_key is None:
        # Spend the same work as a real check, so timing does not tell which prefixes exist.
        hmac.compare_digest(_digest("0" * 32, secret_part), "0" * 64)
        return None
    if not hmac.compare_digest(_digest(api_key.salt, secret_part), api_key.digest):
        return None
    if api_key.revoked_at is not None or not api_key.organisation_is_active:
        return None
    now = timezone.now()
    # Record use at minute resolution: enough for "last used", without a write on every request.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() >= 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- Feedback and hashes from platforms ------------------------------------------------------


@dataclass(frozen=True)
class FeedbackItem:
    hash_record: "HashRecord"
    verdict: str
    tags: tuple[str, ...] = ()


def _record_feedback(*, platform: Organisation, items: list[FeedbackItem]) -> list["HashRecord"]:
    """Make each verdict the platform's current one; return the records whose feedback changed."""
    changed = []
    for item in items:
        current = Feedback.objects.filter(
            organisation=platform, hash_record=item.hash_record, is_current=True
        ).first()
        tags = sorted(set(item.tags))
        if current is not None and current.verdict == item.verdict and sorted(current.tags) == tags:
            continue  # a repeat changes nothing, so a retried request is harmless
        if current is not None:
            Feedback.objects.filter(pk=current.pk).update(is_current=False)
        Feedback.objects.create(organisation=platform, hash_record=item.hash_record, verdict=item.verdict, tags=tags)
        changed.append(item.hash_record)
    return changed


def _queue_disputed(records: list["HashRecord"]) -> None:
    """Flag hashes that enough platforms found and did not block: they may match innocent images."""
    from hashes.models import HashRecord

    threshold = settings.REVIEW_NOT_BLOCKED_PLATFORMS
    for record in records:
        if record.review != HashRecord.Review.NONE:
            continue
        disputes = Feedback.objects.filter(
            hash_record=record, is_current=True, verdict=Feedback.Verdict.NOT_BLOCKED
        ).count()
        if disputes >= threshold:
            record.review = HashRecord.Review.QUEUED


def feedback_submit(*, platform: Organisation, items: list[FeedbackItem]) -> int:
    """Record a platform's verdicts on hashes; return how many changed anything."""
    from hashes.feed_clock import feed_stamp_open
    from hashes.models import HashRecord
    from hashes.services import hash_records_touch

    with transaction.atomic():
        stamp = feed_stamp_open()
        ids = sorted({item.hash_record.pk for item in items})
        locked = {r.pk: r for r in HashRecord.objects.select_for_update().filter(pk__in=ids).order_by("id")}
        items = [FeedbackItem(locked[i.hash_record.pk], i.verdict, i.tags) for i in items if i.hash_record.pk in locked]
        changed = list({r.pk: r for r in _record_feedback(platform=platform, items=items)}.values())
        _queue_disputed(changed)
        # Feedback is part of each record in the feed (CSPFeedbacks), so the records move on.
        hash_records_touch(records=changed, stamp=stamp)
        HashRecord.objects.bulk_update(changed, ["review", "modified_at", "feed_seq"])
        stamp.close()
    return len(changed)


@dataclass(frozen=True)
class FeedbackOutcome:
    accepted: int
    # Values we do not have (purged after withdrawal): reported, not an error, since the
    # platform could not have known.
    unknown: list[str]


def feedback_submit_by_value(
    *, platform: Organisation, verdicts: list[tuple[str, str, str, tuple[str, ...]]]
) -> FeedbackOutcome:
    """Record verdicts given as (signal type, value, verdict, tags), as both platform APIs send them."""
    from hashes.selectors import hash_records_by_value

    records = hash_records_by_value([(kind, value) for kind, value, _verdict, _tags in verdicts])
    items = [
        FeedbackItem(records[(kind, value)], verdict, tags)
        for kind, value, verdict, tags in verdicts
        if (kind, value) in records
    ]
    feedback_submit(platform=platform, items=items)
    unknown = sorted({value for kind, value, _verdict, _tags in verdicts if (kind, value) not in records})
    return FeedbackOutcome(accepted=len(items), unknown=unknown)


def hash_submissions_create(
    *, platform: Organisation, hashes: list["NormalisedHash"], verdicts: list[tuple[str, tuple[str, ...]]]
) -> list["HashRecord"]:
    """Add hashes a platform found itself; each comes with the platform's verdict on it."""
    from hashes.feed_clock import feed_stamp_open
    from hashes.services import hash_records_upsert

    with transaction.atomic():
        stamp = feed_stamp_open()
        records = hash_records_upsert(hashes=hashes, stamp=stamp)
        by_key = {(r.signal_type, r.value): r for r in records}
        HashSubmission.objects.bulk_create(
            [HashSubmission(organisation=platform, hash_record=r) for r in records], ignore_conflicts=True
        )
        _record_feedback(
            platform=platform,
            items=[
                FeedbackItem(by_key[(h.signal_type, h.value)], verdict, tags)
                for h, (verdict, tags) in zip(hashes, verdicts)
            ],
        )
        stamp.close()
    return records


# --- Webhooks --------------------------------------------------------------------------------


def webhook_event_emit(*, event: str, records: list["HashRecord"]) -> None:
    """Queue one event for every active endpoint that asked for it, sent once the change commits."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(is_active=True, organisation__is_active=True)
        if event in e.events
    ]
    if not endpoints:
        return
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event,
        "created": timezone.now().isoformat(),
        "hashes": [
            {"signal_type": r.signal_type, "value": r.value, "quality": r.quality} for r in records
        ],
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event_id=event_id, event=event, payload=payload) for e in endpoints]
    )
    from .tasks import deliver_webhook

    ids = [d.pk for d in deliveries]
    # After commit only: a rolled-back change must not be announced.
    transaction.on_commit(lambda: [deliver_webhook.delay(i) for i in ids])


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_attempt(*, delivery: WebhookDelivery, final: bool) -> bool:
    """POST one delivery and record the outcome; True once the receiver accepted it."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ncii-portal-webhooks/1",
            "X-NCII-Event": delivery.event,
            "X-NCII-Event-Id": str(delivery.event_id),
            "X-NCII-Signature": webhook_signature(secret=delivery.endpoint.secret, timestamp=timestamp, body=body),
        },
    )
    code, error = None, ""
    try:
        with _NO_REDIRECTS.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = type(exc).__name__ + (f": {exc.reason}" if isinstance(exc, urllib.error.URLError) else "")
    delivered = code is not None and 200 <= code < 300
    status = (
        WebhookDelivery.Status.DELIVERED
        if delivered
        else (WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING)
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        last_status_code=code,
        last_error=str(error)[:200],
        status=status,
        delivered_at=timezone.now() if delivered else None,
    )
    return delivered


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend signed hashes somewhere the platform never registered.
    def redirect_request(self, *args, **kwargs):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)
WEBHOOK_TIMEOUT_SECONDS = 10


def webhook_endpoint_create(*, platform: Organisation, url: str, events: list[str], actor) -> tuple[WebhookEndpoint, str]:
    """Register a platform's webhook; return it with its signing secret, shown this once."""
    if platform.kind != Organisation.Kind.PLATFORM:
        raise ValidationError(_("Webhooks are for platforms only."), code="not_a_platform")
    unknown = set(events) - set(WebhookEndpoint.Event.values)
    if unknown or not events:
        raise ValidationError(
            _("Choose one or more events from: %(events)s."),
            code="invalid_events",
            params={"events": ", ".join(WebhookEndpoint.Event.values)},
        )
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organisation=platform, url=url, secret=secret, events=sorted(set(events))
        )
        audit_record(actor=actor, action="webhook.create", organisation=platform, target=endpoint, details={"url": url})
    return endpoint, secret


# --- The partner workspace: staff, sessions, two-factor, notes, assisted cases ---------------


def _actor_organisation(actor) -> Organisation | None:
    from .selectors import staff_membership

    membership = staff_membership(actor)
    return membership.organisation if membership else None


def staff_member_add(*, organisation: Organisation, username: str, password: str, role: str, actor) -> Membership:
    """Create a staff account in an NGO. The new member enrols a second factor at first login."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password

    if organisation.kind != Organisation.Kind.NGO:
        raise ValidationError(_("Staff belong to an NGO partner."), code="not_an_ngo")
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a role."), code="invalid_role")
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("That username is taken."), code="username_taken")
    user = User(username=username, is_staff=True)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        membership = Membership.objects.create(user=user, organisation=organisation, role=role)
        audit_record(
            actor=actor, action="staff.add", organisation=organisation, target=membership,
            details={"username": username, "role": role},
        )
    return membership


def staff_member_set_role(*, membership: Membership, role: str, actor) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a role."), code="invalid_role")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role != role:
            locked.role = role
            locked.save(update_fields=["role"])
            audit_record(
                actor=actor, action="staff.role", organisation=locked.organisation, target=locked,
                details={"username": locked.user.get_username(), "role": role},
            )
    return locked


def staff_member_remove(*, membership: Membership, actor) -> None:
    """Take a staff member out of their NGO: the account is switched off and signed out everywhere."""
    if membership.user_id == actor.pk:
        raise ValidationError(_("You cannot remove yourself."), code="self_removal")
    with transaction.atomic():
        user = membership.user
        organisation = membership.organisation
        user.is_active = False
        user.is_staff = False
        user.save(update_fields=["is_active", "is_staff"])
        audit_record(
            actor=actor, action="staff.remove", organisation=organisation, target=membership,
            details={"username": user.get_username()},
        )
        membership.delete()
        _end_sessions(user)


def _end_sessions(user) -> int:
    # Sessions are signed blobs keyed by id; the only way to find one user's is to read them.
    # Staff sessions are few and short, so this stays cheap.
    from django.contrib.sessions.models import Session

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def staff_sessions_end(*, user, actor) -> int:
    """Sign a staff member out on every device ("log out everywhere"); return how many sessions ended."""
    with transaction.atomic():
        count = _end_sessions(user)
        audit_record(
            actor=actor, action="staff.logout_everywhere", organisation=_actor_organisation(user),
            target=user, details={"sessions": count},
        )
    return count


def staff_two_factor_confirm(*, user, device, token: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; return fresh backup codes, or None if wrong."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    if not device.verify_token(token):
        return None
    with transaction.atomic():
        # One authenticator and one set of backup codes per person: enrolling again replaces both.
        type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save()
        StaticDevice.objects.filter(user=user).delete()
        backup = StaticDevice.objects.create(user=user, name=str(_("Backup codes")), confirmed=True)
        codes = [StaticToken.random_token() for _ in range(settings.STAFF_BACKUP_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=backup, token=code) for code in codes])
        audit_record(actor=user, action="staff.2fa.enrol", organisation=_actor_organisation(user), target=user)
    return codes


def staff_two_factor_reset(*, user, actor) -> None:
    """Remove a staff member's second factor (a lost phone); they enrol again at their next login."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _end_sessions(user)
        audit_record(
            actor=actor, action="staff.2fa.reset", organisation=_actor_organisation(user), target=user,
            details={"username": user.get_username()},
        )


def case_note_create(*, case, text: str, actor):
    """Add an internal note to a case."""
    from .models import CaseNote

    text = text.strip()
    if not text:
        raise ValidationError(_("Write a note first."), code="empty_note")
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=actor, text=text)
        audit_record(actor=actor, action="case.note", organisation=case.organisation, case=case, target=note)
    return note


def case_viewed(*, case, actor, action: str = "case.view") -> AuditEvent:
    """Record that a staff member looked at a case (call it in the transaction of the response)."""
    return audit_record(actor=actor, action=action, organisation=case.organisation, case=case)


def assisted_case_create(*, hashes: list[dict], language: str, actor):
    """Open a case for a victim helped by a caseworker; it belongs to the caseworker's NGO."""
    from cases.services import case_create

    organisation = _actor_organisation(actor)
    if organisation is None:
        raise ValidationError(_("Only staff of an NGO partner can open a case for someone."), code="no_organisation")
    with transaction.atomic():
        new = case_create(hashes=hashes, language=language, organisation=organisation)
        audit_record(
            actor=actor, action="case.create.assisted", organisation=organisation, case=new.case,
            details={"hashes": len(hashes)},
        )
    return new
