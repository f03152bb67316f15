"""Writes for partners: API keys and the audit trail."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiKey, AuditEvent, Organisation

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
    api_key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if api_key is None:
        # Spend the same work as a real check, so timing does not tell which prefixes exist.
        hmac.compare_digest(_digest("0" * 32, secret_part), "0" * 64)
        return None
    if not hmac.compare_digest(_digest(api_key.salt, secret_part), api_key.digest):
        return None
    if api_key.revoked_at is not None or not api_key.organisation.is_active:
        return None
    now = timezone.now()
    # Record use at minute resolution: enough for "last used", without a write on every request.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() >= 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
