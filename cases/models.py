from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .identifiers import format_case_number, generate_case_reference


class Case(models.Model):
    """A victim's request to have their hashes shared with platforms.

    Deliberately holds nothing that identifies the person: no name, contact, address or file name.
    The PIN is kept only as a salted hash.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    number = models.CharField(_("case number"), max_length=16, unique=True)
    # What platforms see in the feed instead of the case number, which is half of the victim's
    # login: a random token that tells cases apart and reveals nothing.
    reference = models.CharField(
        _("reference for platforms"), max_length=32, unique=True, default=generate_case_reference
    )
    pin_hash = models.CharField(max_length=256)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    language = models.CharField(_("language"), max_length=16)
    organisation = models.ForeignKey(
        "partners.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("assisting NGO"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # The version of each declaration's text the person agreed to (cases/declarations.py), never
    # free text. Empty for cases opened by staff tools, which declare nothing.
    declarations = models.JSONField(_("declarations"), default=dict, blank=True)
    # Wrong PINs since the last right one; at CASE_PIN_MAX_FAILURES the case is locked until
    # locked_until. Counted under a row lock, so parallel guesses cannot slip past the limit.
    pin_failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # A keyed hash of the idempotency key the page sent: a retry or a double tap finds this case
    # instead of opening a second one. The key itself is never stored.
    idempotency_key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The PIN, masked with a pad derived from the idempotency key, so that a retry (which brings
    # the key again) can be answered with the same PIN. Without the key it says nothing; it is
    # cleared once the retry window has passed (see services.case_create).
    pin_replay = models.CharField(max_length=16, blank=True, default="")
    hash_records = models.ManyToManyField(
        "hashes.HashRecord", through="CaseHash", related_name="cases", verbose_name=_("hashes")
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="withdrawn", withdrawn_at__isnull=False)
                | Q(status="active", withdrawn_at__isnull=True),
                name="case_withdrawn_at_matches_status",
            ),
            models.CheckConstraint(condition=Q(pin_failures__gte=0), name="case_pin_failures_not_negative"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return format_case_number(self.number)


class CaseHash(models.Model):
    """A hash submitted in a case. One row per case and hash: resubmitting changes nothing."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_hashes", verbose_name=_("case"))
    hash_record = models.ForeignKey(
        # Purging a withdrawn record after its retention period takes its links with it.
        "hashes.HashRecord",
        on_delete=models.CASCADE,
        related_name="case_hashes",
        verbose_name=_("hash"),
        db_index=False,  # indexed below, with the case
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("case hash")
        verbose_name_plural = _("case hashes")
        indexes = [
            # A record's cases, found and read from the index alone when its feed JSON is rendered.
            models.Index(fields=["hash_record"], include=["case"], name="casehash_by_record"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "hash_record"], name="casehash_one_link"),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.hash_record}"
