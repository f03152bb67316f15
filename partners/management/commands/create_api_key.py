from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partners.models import Organisation
from partners.services import api_key_issue


class Command(BaseCommand):
    help = (
        "Issue an API key to a platform organisation. The key is printed alone on the last line, "
        "once: only a salted digest is stored, so it cannot be shown again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organisation", required=True, help="the platform's slug")
        parser.add_argument(
            "--scopes", required=True, help="comma-separated: fetch, feedback, submit, match"
        )
        parser.add_argument("--name", default="", help="a label to tell keys apart")

    def handle(self, *args, organisation: str, scopes: str, name: str, **options) -> None:
        try:
            platform = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with slug {organisation!r}.") from None
        try:
            issued = api_key_issue(
                organisation=platform, scopes=scopes.split(","), name=name, source="command"
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"Issued key {issued.api_key.prefix} to {platform.slug} with scopes "
            f"{','.join(issued.api_key.scopes)}. Store it now: it will not be shown again."
        )
        self.stdout.write(issued.secret)
