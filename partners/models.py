from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hashes.models import HashRecord


class Organisation(models.Model):
    """An NGO that helps victims, or a platform that consumes the hash feed."""

    class Kind(models.TextChoices):
        NGO = "ngo", _("NGO partner")
        PLATFORM = "platform", _("Platform")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    slug = models.SlugField(_("short name"), max_length=64, unique=True)
    # name, description and help_text are translated per language by django-modeltranslation.
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    help_text = models.TextField(_("how we can help"), blank=True)
    website = models.URLField(_("website"), blank=True)
    # For the public partner directory (translated, like name and description).
    services = models.TextField(_("services"), blank=True)
    helpline = models.CharField(_("helpline"), max_length=100, blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    # Shown in the public directory; a platform never is.
    is_listed = models.BooleanField(_("listed in the public directory"), default=True)
    # The NGO that runs this deployment; its staff look after cases made without an NGO's help.
    is_operator = models.BooleanField(_("runs this portal"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["ngo", "platform"]), name="organisation_known_kind"
            ),
            models.UniqueConstraint(
                fields=["is_operator"], condition=Q(is_operator=True), name="organisation_one_operator"
            ),
            models.CheckConstraint(
                condition=Q(is_operator=False) | Q(kind="ngo"), name="organisation_operator_is_ngo"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff account's place in one NGO."""

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", _("Caseworker")
        MANAGER = "manager", _("Manager")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CASEWORKER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["caseworker", "manager"]), name="membership_known_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} ({self.get_role_display()})"


class ApiKey(models.Model):
    """A platform's key to the API. Only a prefix (to find it) and a salted digest are kept."""

    class Scope(models.TextChoices):
        FETCH = "fetch", _("Fetch the hash feed")
        FEEDBACK = "feedback", _("Send feedback")
        SUBMIT = "submit", _("Submit hashes")
        MATCH = "match", _("Look hashes up")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("organisation")
    )
    name = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    salt = models.CharField(max_length=64)
    digest = models.CharField(max_length=128)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Feedback(models.Model):
    """A platform's verdict on a hash. The newest per platform and hash is current; older rows are history."""

    # The values of StopNCII's feedback enum, so feedback passes through the compatible API as is.
    class Verdict(models.TextChoices):
        NONE = "None", _("No verdict")
        QUALITY_UNKNOWN = "QualityUnknown", _("Quality unknown")
        PENDING_REVIEW = "PendingReview", _("Match found, under review")
        BLOCKED = "Blocked", _("Match found and blocked")
        NOT_BLOCKED = "NotBlocked", _("Match found, not blocked")
        WITHDRAWN = "Withdrawn", _("Withdrawn")
        DELETED = "Deleted", _("Deleted")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("platform")
    )
    hash_record = models.ForeignKey(
        "hashes.HashRecord", on_delete=models.CASCADE, related_name="feedback", verbose_name=_("hash")
    )
    verdict = models.CharField(_("verdict"), max_length=32, choices=Verdict.choices)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    is_current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "hash_record"],
                condition=Q(is_current=True),
                name="feedback_one_current_per_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.get_verdict_display()}"


class AuditEvent(models.Model):
    """Who did what, when, to which case. Written in the same transaction as the change it records."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # Where the change came from when no staff member made it (a management command, the system).
    source = models.CharField(_("source"), max_length=32, default="admin")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organisation")
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events", verbose_name=_("case")
    )
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A staff action always names its actor; only non-admin sources may have none.
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | ~Q(source="admin"), name="auditevent_admin_has_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class HashSubmission(models.Model):
    """A hash a platform found and shared itself (StopNCII's SubmitHashes), not from a case."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="hash_submissions", verbose_name=_("platform")
    )
    hash_record = models.ForeignKey(
        "hashes.HashRecord", on_delete=models.CASCADE, related_name="submissions", verbose_name=_("hash")
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("hash from a platform")
        verbose_name_plural = _("hashes from platforms")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "hash_record"], name="hashsubmission_one_per_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.hash_record}"


class WebhookEndpoint(models.Model):
    """Where a platform wants hash events pushed, and the secret that signs them."""

    class Event(models.TextChoices):
        HASH_ADDED = "hash.added", _("A hash was added")
        HASH_WITHDRAWN = "hash.withdrawn", _("A hash was withdrawn")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("platform")
    )
    url = models.URLField(_("address"), max_length=500)
    # Kept in clear because signing needs it; it only proves to the platform that a push is ours.
    secret = models.CharField(_("signing secret"), max_length=64)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"{self.organisation} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how delivering it went. Written with the change it reports."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    # The same id on every attempt, so a receiver can drop repeats (delivery is at least once).
    event_id = models.UUIDField(_("event id"))
    event = models.CharField(_("event"), max_length=32)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhookdelivery_one_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint}"


class CaseNote(models.Model):
    """A staff member's internal note on a case. Never shown to the victim or to platforms."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="notes", verbose_name=_("case"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by")
    )
    text = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class HelpEntry(models.Model):
    """A question and answer on the public help page, translated per language."""

    # Empty: general help from the portal's operator; otherwise an NGO's own entry.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="help_entries",
        verbose_name=_("organisation"),
    )
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("help entry")
        verbose_name_plural = _("help entries")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.question


class ReviewItem(HashRecord):
    """The review queue: hash records seen through the eyes of the staff who decide on them."""

    class Meta:
        proxy = True
        verbose_name = _("hash to review")
        verbose_name_plural = _("review queue")
