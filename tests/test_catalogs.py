"""Every user-facing string is in the catalogs, and every catalog translates all of them."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.conftest import REPO

CATALOGS = sorted((REPO / "locale").glob("*/LC_MESSAGES/*.po"))
IGNORE = shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "__pycache__", "*.mo", ".pytest_cache")


def catalog_id(path: Path) -> str:
    return f"{path.parts[-3]}/{path.name}"


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_every_message_is_translated(path):
    catalog = polib.pofile(str(path))
    assert not catalog.metadata_is_fuzzy, f"{catalog_id(path)}: the header is marked fuzzy"
    problems = [
        f"{catalog_id(path)}: {'fuzzy' if 'fuzzy' in e.flags else 'untranslated'}: {e.msgid!r}"
        for e in catalog
        if not e.obsolete and ("fuzzy" in e.flags or not e.translated())
    ]
    assert not problems, "\n".join(problems)


def test_the_catalogs_hold_exactly_the_strings_in_the_code(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=IGNORE)
    languages = sorted({p.parts[-3] for p in CATALOGS})
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-d", domain, *[f"-l{lang}" for lang in languages],
             "--no-obsolete", "--ignore=tests", "--ignore=benchmarks", "--ignore=node_modules", "--verbosity=0"],
            cwd=copy, check=True, env={"DJANGO_DEBUG": "1", "PATH": "/usr/bin:/bin"}, timeout=300,
        )
    for original in CATALOGS:
        fresh = copy / original.relative_to(REPO)
        have = {(e.msgctxt, e.msgid) for e in polib.pofile(str(original)) if not e.obsolete}
        want = {(e.msgctxt, e.msgid) for e in polib.pofile(str(fresh)) if not e.obsolete}
        assert want - have == set(), f"{catalog_id(original)} lacks strings from the code: run make makemessages"
        assert have - want == set(), f"{catalog_id(original)} has strings no longer in the code"
