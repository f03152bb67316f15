from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .signal_types import QUALITY_MAX, QUALITY_MIN, SIGNAL_TYPE_CHOICES, SIGNAL_TYPES


class HashRecord(models.Model):
    """One distinct hash, however many cases submitted it.

    Its status is an aggregate of its cases: active while any linked case is active, withdrawn once
    the last one is withdrawn. A withdrawn record stays in the feed (platforms must learn to delete
    it) until it is purged after the retention period.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Review(models.TextChoices):
        NONE = "none", _("Not flagged")
        QUEUED = "queued", _("Waiting for review")
        KEPT = "kept", _("Reviewed and kept")
        # Out of the feed and out of lookups: platforms that have it are told to delete it.
        HELD = "held", _("Held out of the feed")

    signal_type = models.CharField(_("hash type"), max_length=16, choices=SIGNAL_TYPE_CHOICES)
    value = models.CharField(_("value"), max_length=64)
    quality = models.PositiveSmallIntegerField(_("quality"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    # Both set from the feed clock (hashes/feed_clock.py) on every change a platform must hear
    # about. The feed is ordered by feed_seq; modified_at rises with it.
    modified_at = models.DateTimeField(_("last changed"))
    feed_seq = models.BigIntegerField(_("feed position"), unique=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    review = models.CharField(_("review"), max_length=16, choices=Review.choices, default=Review.NONE)
    # The record as the StopNCII feed sends it, rendered by PostgreSQL whenever the record is
    # stamped (hashes/feed_json.py), so a feed page is read, not built. Empty on other databases.
    feed_json = models.TextField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("hash record")
        verbose_name_plural = _("hash records")
        constraints = [
            models.UniqueConstraint(fields=["signal_type", "value"], name="hashrecord_unique_value"),
            models.CheckConstraint(
                condition=Q(signal_type__in=list(SIGNAL_TYPES)), name="hashrecord_known_signal_type"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "withdrawn"]), name="hashrecord_known_status"
            ),
            models.CheckConstraint(
                condition=Q(quality__isnull=True) | Q(quality__gte=QUALITY_MIN, quality__lte=QUALITY_MAX),
                name="hashrecord_quality_range",
            ),
            # Canonical form only: lowercase hex of the signal type's exact length.
            models.CheckConstraint(
                condition=(
                    Q(signal_type="pdq", value__regex=r"^[0-9a-f]{64}$")
                    | Q(signal_type="md5", value__regex=r"^[0-9a-f]{32}$")
                ),
                name="hashrecord_canonical_value",
            ),
            models.CheckConstraint(
                condition=Q(status="withdrawn", withdrawn_at__isnull=False)
                | Q(status="active", withdrawn_at__isnull=True),
                name="hashrecord_withdrawn_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(review__in=["none", "queued", "kept", "held"]), name="hashrecord_known_review"
            ),
        ]
        indexes = [
            # Finds where a feed starting at a given time begins (hashes/selectors.py).
            models.Index(fields=["modified_at", "feed_seq"], name="hashrecord_feed_time"),
            # The native feed filtered by hash type, in feed order.
            models.Index(fields=["signal_type", "feed_seq"], name="hashrecord_feed_by_type"),
            # The review queue is small and read often; a partial index keeps it cheap.
            models.Index(fields=["review"], condition=Q(review="queued"), name="hashrecord_review_queue"),
        ]

    def __str__(self) -> str:
        # A prefix is enough to tell records apart on a screen; the full value is on the detail page.
        return f"{self.signal_type}:{self.value[:12]}…"


class FeedClock(models.Model):
    """One row: the last feed position handed out and its time. Its row lock orders all changes."""

    last_seq = models.BigIntegerField(default=0)
    last_time = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="feedclock_single_row")]
