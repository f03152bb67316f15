"""A portal served for benchmarks: a filled PostgreSQL database, an API key, gunicorn."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database the benchmark may fill.")
    return url


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY="benchmark-only-" + "b" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="0",
        DJANGO_LOG_LEVEL="WARNING",
        API_RATE_FETCH="100000000/min",
        API_RATE_MATCH="100000000/min",
        DJANGO_STATIC_ROOT=str(REPO / "var" / "bench-static"),
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def _django(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=REPO, env={**env, "DJANGO_SETTINGS_MODULE": "ncii_portal.settings"},
        capture_output=True, text=True, check=True,
    )
    return result.stdout


def prepare(env: dict[str, str], records: int, scopes: str) -> str:
    """Migrate, fill up to `records` hash records, and return a new API key with `scopes`."""
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    have = int(_django(env, "from hashes.models import HashRecord; print(HashRecord.objects.count())"))
    if have < records:
        print(f"seeding {records - have} records (a few minutes for a million)...", file=sys.stderr)
        manage(env, "seed_hashes", "--count", str(records - have))
    _django(
        env,
        "from partners.models import Organisation\n"
        "Organisation.objects.get_or_create(slug='bench-platform', defaults={'kind': 'platform', 'name': 'Bench'})",
    )
    return manage(env, "create_api_key", "--organisation", "bench-platform", "--scopes", scopes).strip().splitlines()[-1]


def start_gunicorn(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ncii_portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")
