import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from cases.models import Case
from cases.services import case_create
from partners.models import HelpEntry, Membership, Organisation

DEMO_NGO = "demo-ngo"
DEMO_PLATFORM = "demo-platform"
DEMO_STAFF = "demo-staff"
STAFF_GROUP = "NGO staff"

# Demo texts, one file per language the portal ships: partners/demo/<language code>.json.
DEMO_TEXTS = Path(__file__).resolve().parents[2] / "demo"


def demo_texts() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DEMO_TEXTS.glob("*.json"))}


# Fixed, clearly artificial fingerprints, so the demo feed is never empty.
DEMO_HASHES = [
    {"signal_type": "pdq", "value": "f" * 16 + "0" * 16 + "a5" * 16, "quality": 100},
    {"signal_type": "pdq", "value": "0f" * 32, "quality": 90},
    {"signal_type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
]


def _translated(texts: dict[str, dict], part: str) -> dict[str, str]:
    """modeltranslation's per-language fields (name_en, name_zh_hant, ...) for one part of the texts."""
    fields: dict[str, str] = {}
    for code, by_part in texts.items():
        for field, text in by_part[part].items():
            fields[build_localized_fieldname(field, code)] = text
    return fields


class Command(BaseCommand):
    help = (
        "Create or refresh demo data: an NGO with a staff login, a platform with slug "
        "demo-platform, help content in every language (partners/demo/*.json), and a demo case. "
        "Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        shipped = {code for code, _name in settings.LANGUAGES}
        texts = {code: t for code, t in demo_texts().items() if code in shipped}
        missing = shipped - set(texts)
        if missing:
            raise CommandError(f"Demo texts are missing for: {', '.join(sorted(missing))} (partners/demo/).")
        with transaction.atomic():
            ngo, _ = Organisation.objects.update_or_create(
                slug=DEMO_NGO,
                defaults={
                    "kind": Organisation.Kind.NGO,
                    "is_operator": True,
                    "helpline": "0000 0000",
                    **_translated(texts, "ngo"),
                },
            )
            Organisation.objects.update_or_create(
                slug=DEMO_PLATFORM,
                defaults={"kind": Organisation.Kind.PLATFORM, **_translated(texts, "platform")},
            )
            for position, _entry in enumerate(texts["en"]["help"]):
                fields = {
                    build_localized_fieldname(field, code): text
                    for code, t in texts.items()
                    for field, text in t["help"][position].items()
                }
                HelpEntry.objects.update_or_create(organisation=None, position=position, defaults=fields)
            password = self._staff(ngo)
            if not Case.objects.filter(organisation=ngo).exists():
                with translation.override("en"):
                    case_create(hashes=DEMO_HASHES, language="en", organisation=ngo)
        self.stdout.write(f"Demo NGO: {DEMO_NGO}; demo platform: {DEMO_PLATFORM}")
        self.stdout.write(f"Staff login: {DEMO_STAFF} / {password}  (at /admin/)")

    def _staff(self, ngo: Organisation) -> str:
        """Create or refresh the demo staff account with a new random password, and return it."""
        # A fresh password on every run: the demo never has a password that someone could know.
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_STAFF)
        user.is_staff = True
        user.set_password(password)
        user.save()
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["cases", "hashes", "partners"])
            .filter(codename__startswith="view_")
            | Permission.objects.filter(content_type__app_label="cases", codename="change_case")
        )
        user.groups.add(group)
        Membership.objects.update_or_create(
            user=user, defaults={"organisation": ngo, "role": Membership.Role.MANAGER}
        )
        return password
