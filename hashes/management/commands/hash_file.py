import json

from django.core.management.base import BaseCommand, CommandError

from hashes.decoding import HashingError, hash_file


class Command(BaseCommand):
    help = (
        "Hash photos and videos the way the victim's browser does, printing one JSON object per file: "
        '{"path", "kind", "md5", "pdq", "quality", ...} or {"path", "error": {"code", "message", ...}}. '
        "Every file is tried; the exit status is 1 if any could not be hashed. Nothing is stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")

    def handle(self, *args, paths: list[str], **options) -> None:
        failed = 0
        for path in paths:
            try:
                line = {"path": path, **hash_file(path)}
            except HashingError as error:
                failed += 1
                line = {"path": path, "error": {"code": error.code, "message": error.message,
                                                "detail": error.detail, **error.extra}}
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        if failed:
            raise CommandError(f"{failed} of {len(paths)} files could not be hashed.", returncode=1)
