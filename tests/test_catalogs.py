"""Every user-facing string is in the catalogs, and every catalog translates all of them."""

import re
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


# Django REST framework's own messages (field errors in API answers) -----------------------------

DRF_CATALOGS = sorted((REPO / "drf_locale").glob("*/LC_MESSAGES/django.po"))


def test_drf_messages_are_translated_for_every_language_drf_does_not_ship():
    from django.conf import settings
    from django.utils.translation import to_locale
    import rest_framework

    shipped = {p.name for p in (Path(rest_framework.__file__).parent / "locale").iterdir()}
    missing = {code for code, _name in settings.LANGUAGES if to_locale(code) not in shipped}
    assert {p.parts[-3] for p in DRF_CATALOGS} == missing


def test_our_drf_catalogs_carry_drfs_own_messages_each_translated():
    import rest_framework

    drf_english = polib.mofile(str(Path(rest_framework.__file__).parent / "locale/en/LC_MESSAGES/django.mo"))
    drf_msgids = {e.msgid for e in drf_english}
    catalogs = {catalog_id(p): polib.pofile(str(p)) for p in DRF_CATALOGS}
    msgids = {name: {e.msgid for e in catalog} for name, catalog in catalogs.items()}
    assert len(set(map(frozenset, msgids.values()))) == 1, "every language carries the same messages"
    for name, catalog in catalogs.items():
        assert msgids[name] <= drf_msgids, f"{name}: not DRF's wording: {msgids[name] - drf_msgids}"
        for entry in catalog:
            assert entry.translated() and entry.msgstr != entry.msgid, f"{name}: {entry.msgid!r}"
            for placeholder in re.findall(r"\{\w+\}", entry.msgid):
                assert placeholder in entry.msgstr, f"{name}: {entry.msgid!r} lost {placeholder}"
