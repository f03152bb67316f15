"""Figures for an organisation's dashboard: aggregates only, never a case number or a hash."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseHash

from .models import Feedback

WEEKS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    # Where the bar is drawn in the chart's 0..100 box.
    x: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return 90 - self.height


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)

    @property
    def peak(self) -> int:
        return max((b.value for b in self.bars), default=0)


def _bars(pairs: list[tuple[str, int]]) -> list[Bar]:
    peak = max((v for _l, v in pairs), default=0) or 1
    width = 100 / max(len(pairs), 1)
    return [
        Bar(label=label, value=value, x=i * width + width * 0.1, width=width * 0.8, height=80 * value / peak)
        for i, (label, value) in enumerate(pairs)
    ]


def _weeks(now: datetime) -> list[datetime]:
    start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [start - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _per_week(queryset, field: str, weeks: list[datetime]) -> list[tuple[str, int]]:
    counts = {
        row["week"].date(): row["n"]
        for row in queryset.filter(**{f"{field}__gte": weeks[0]})
        .annotate(week=TruncWeek(field))
        .values("week")
        .annotate(n=Count("id"))
    }
    return [(f"{w:%d %b}", counts.get(w.date(), 0)) for w in weeks]


# Buckets of the time from a case to the first word from any platform about one of its hashes.
RESPONSE_BUCKETS = [
    (timedelta(hours=1), _("within an hour")),
    (timedelta(days=1), _("within a day")),
    (timedelta(weeks=1), _("within a week")),
    (None, _("longer")),
]


def dashboard_figures(cases) -> list[Chart]:
    """The dashboard's charts for these cases (already scoped to what the viewer may see)."""
    now = timezone.now()
    weeks = _weeks(now)
    case_hashes = CaseHash.objects.filter(case__in=cases)
    withdrawn = cases.filter(status=Case.Status.WITHDRAWN)
    charts = [
        Chart("cases", str(_("Cases opened per week")), _bars(_per_week(cases, "created_at", weeks))),
        Chart("hashes", str(_("Hashes added per week")), _bars(_per_week(case_hashes, "added_at", weeks))),
        Chart("withdrawals", str(_("Cases withdrawn per week")), _bars(_per_week(withdrawn, "withdrawn_at", weeks))),
    ]
    feedback = (
        Feedback.objects.filter(is_current=True, hash_record__case_hashes__case__in=cases)
        .values("organisation__name", "verdict")
        .annotate(n=Count("id", distinct=True))
        .order_by("organisation__name", "verdict")
    )
    labels = dict(Feedback.Verdict.choices)
    charts.append(
        Chart(
            "feedback",
            str(_("Platform feedback by platform and verdict")),
            _bars([(f"{row['organisation__name']}: {labels.get(row['verdict'], row['verdict'])}", row["n"])
                   for row in feedback]),
        )
    )
    firsts = cases.annotate(first=Min("case_hashes__hash_record__feedback__created_at")).values_list(
        "created_at", "first"
    )
    buckets = [0] * (len(RESPONSE_BUCKETS) + 1)
    for created, first in firsts:
        if first is None:
            buckets[-1] += 1
            continue
        delay = max(first - created, timedelta(0))
        for i, (limit, _label) in enumerate(RESPONSE_BUCKETS):
            if limit is None or delay <= limit:
                buckets[i] += 1
                break
    pairs = [(str(label), buckets[i]) for i, (_limit, label) in enumerate(RESPONSE_BUCKETS)]
    pairs.append((str(_("no feedback yet")), buckets[-1]))
    charts.append(Chart("response", str(_("Time from case to first platform feedback")), _bars(pairs)))
    return charts
