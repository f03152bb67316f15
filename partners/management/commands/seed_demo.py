import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from cases.models import Case
from cases.services import case_create
from partners.models import Membership, Organisation

DEMO_NGO = "demo-ngo"
DEMO_PLATFORM = "demo-platform"
DEMO_STAFF = "demo-staff"
STAFF_GROUP = "NGO staff"

# Written for each language the portal ships; a new language adds its entry here.
DEMO_NGO_TEXT = {
    "en": {
        "name": "Demo Support Centre",
        "description": "A demonstration NGO: confidential support for people affected by sexual violence.",
        "help_text": "Helpline (demo): 0000 0000, Monday to Friday, 9am to 6pm. We can help you make a case.",
    },
    "zh-hant": {
        "name": "示範支援中心",
        "description": "示範用的非政府機構：為受性暴力影響的人士提供保密支援。",
        "help_text": "求助熱線（示範）：0000 0000，星期一至五，上午九時至下午六時。我們可以協助你開立個案。",
    },
}
DEMO_PLATFORM_TEXT = {
    "en": {"name": "Demo Platform", "description": "A demonstration platform that takes the hash feed."},
    "zh-hant": {"name": "示範平台", "description": "接收雜湊資料的示範平台。"},
}

# Fixed, clearly artificial fingerprints, so the demo feed is never empty.
DEMO_HASHES = [
    {"signal_type": "pdq", "value": "f" * 16 + "0" * 16 + "a5" * 16, "quality": 100},
    {"signal_type": "pdq", "value": "0f" * 32, "quality": 90},
    {"signal_type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
]


def _translated(texts: dict[str, dict[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for code, values in texts.items():
        suffix = code.replace("-", "_")
        for field, text in values.items():
            fields[f"{field}_{suffix}"] = text
    return fields


class Command(BaseCommand):
    help = (
        "Create or refresh demo data: an NGO with a staff login, a platform with slug "
        "demo-platform, help content in every language, and a demo case. Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        missing = {code for code, _name in settings.LANGUAGES} - set(DEMO_NGO_TEXT)
        if missing:
            self.stderr.write(f"Demo text is missing for: {', '.join(sorted(missing))}")
        with transaction.atomic():
            ngo, _ = Organisation.objects.update_or_create(
                slug=DEMO_NGO,
                defaults={"kind": Organisation.Kind.NGO, "is_operator": True, **_translated(DEMO_NGO_TEXT)},
            )
            Organisation.objects.update_or_create(
                slug=DEMO_PLATFORM,
                defaults={"kind": Organisation.Kind.PLATFORM, **_translated(DEMO_PLATFORM_TEXT)},
            )
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
