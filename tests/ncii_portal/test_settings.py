import subprocess
import sys

import pytest

from tests.conftest import REPO, production_env


def django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_start_up_stops_and_names_a_missing_variable(missing):
    env = production_env()
    del env[missing]
    result = django_setup(env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_debug_is_off_unless_it_is_exactly_switched_on():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    for value, expected in [("0", "False"), ("", "False"), ("no", "False"), ("1", "True")]:
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=production_env(DJANGO_DEBUG=value),
            capture_output=True, text=True, timeout=60,
        )
        assert result.stdout.strip() == expected, result.stderr


def test_debug_needs_no_other_variable():
    env = production_env(DJANGO_DEBUG="1")
    del env["DJANGO_SECRET_KEY"], env["DJANGO_ALLOWED_HOSTS"]
    assert django_setup(env).returncode == 0


def test_production_settings_pass_the_deployment_checks(test_database_url):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=production_env(DATABASE_URL=test_database_url), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
