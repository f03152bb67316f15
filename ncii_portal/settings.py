"""Settings for the NCII portal, read from the environment and nowhere else.

Development (`DJANGO_DEBUG=1`) works with no other variable: SQLite under var/, Celery tasks run
eagerly, the cache is in memory. Production has no defaults for its secrets: start-up stops with a
message naming the missing variable. docs/deployment.md lists every variable.
"""

from pathlib import Path
import os

import dj_database_url
from csp.constants import NONE, SELF
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool) -> bool:
    """Read a 0/1 switch; anything but "1" (or "true"/"yes") is off."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_required(name: str, why: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set {why}.")
    return value


DEBUG = env_flag("DJANGO_DEBUG", default=False)

if DEBUG:
    # A fixed development key is harmless: debug mode must never face the internet anyway.
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "dev-only-insecure-key-" + "x" * 40
    ALLOWED_HOSTS = [
        h.strip()
        for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
        if h.strip()
    ]
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY", "when DJANGO_DEBUG is not 1")
    ALLOWED_HOSTS = [
        h.strip()
        for h in env_required("DJANGO_ALLOWED_HOSTS", "when DJANGO_DEBUG is not 1").split(",")
        if h.strip()
    ]

# Served over HTTPS (behind a TLS-terminating proxy) unless in debug. Turning this off outside debug
# is only for local test servers on plain HTTP; `check --deploy` warns about it, as it should.
HTTPS = env_flag("DJANGO_HTTPS", default=not DEBUG)

INSTALLED_APPS = [
    # modeltranslation must come before the admin so that its admin classes are patched in.
    "modeltranslation",
    # The admin with partner staff's site as its default: two-factor login and per-organisation
    # scoping (partners/admin_site.py).
    "partners.admin_apps.PartnerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "hashes",
    "cases",
    "partners",
]

MIDDLEWARE = [
    # First, so load balancers get an answer whatever Host they send and over plain HTTP.
    "ncii_portal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user as verified once a second factor has been given in this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ncii_portal.urls"
WSGI_APPLICATION = "ncii_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=60,
        # Check a kept connection before use, so a database restart costs one reconnect instead
        # of an error page for whoever comes next.
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The covering index of case links (cases/models.py) carries an extra column on PostgreSQL;
# SQLite, used by `make run`, builds it without, which is all it needs at demo size.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Redis: Celery broker and cache ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    # No broker: run tasks in-process at once, so development needs no Redis.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
# A task is acknowledged only once it has finished, so a worker that dies mid-task leaves it to be
# redelivered; tasks are idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "purge-withdrawn-hashes": {
        "task": "hashes.tasks.purge_withdrawn_hashes",
        "schedule": 6 * 3600,
    },
}

# How long a withdrawn hash stays in the feed as a deletion before it is purged. Platforms that
# sync less often than this would miss the deletion, so it is generous.
HASH_WITHDRAWN_RETENTION_DAYS = int(os.environ.get("HASH_WITHDRAWN_RETENTION_DAYS", "90"))

# Most hashes one case may hold (a person may add files later, up to this).
CASE_MAX_HASHES = int(os.environ.get("CASE_MAX_HASHES", "200"))

# The victim pages and case API (cases/, docs/victim-portal.md). Files (hashes) one request may
# send, stated on the page; a case may grow to CASE_MAX_HASHES over several requests.
CASE_MAX_HASHES_PER_REQUEST = int(os.environ.get("CASE_MAX_HASHES_PER_REQUEST", "50"))
# Wrong PINs in a row before a case is locked, and for how long: 5 tries per 15 minutes make an
# 8-digit PIN a matter of centuries to guess, on top of the case number's 59 bits.
CASE_PIN_MAX_FAILURES = int(os.environ.get("CASE_PIN_MAX_FAILURES", "5"))
CASE_PIN_LOCKOUT_MINUTES = int(os.environ.get("CASE_PIN_LOCKOUT_MINUTES", "15"))
# How long a retried "open a case" request (same idempotency key) gets the same case and PIN back.
CASE_IDEMPOTENCY_WINDOW_HOURS = int(os.environ.get("CASE_IDEMPOTENCY_WINDOW_HOURS", "24"))
# Where "Leave quickly" goes: an everyday page that says nothing about this service.
QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.google.com/search?q=weather")

# A hash that this many platforms found and did not block goes to NGO staff for review.
REVIEW_NOT_BLOCKED_PLATFORMS = int(os.environ.get("REVIEW_NOT_BLOCKED_PLATFORMS", "2"))

# How often each server process brings its in-memory PDQ index up to date with the database.
MATCH_INDEX_SYNC_SECONDS = float(os.environ.get("MATCH_INDEX_SYNC_SECONDS", "2"))

# First pause before a failed webhook delivery is retried; it doubles with each attempt.
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "15"))

# --- Passwords, PINs and sessions ------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Staff sign-in (docs/ngo-workspace.md) ---------------------------------------------------------
# django-axes counts failed logins first, then Django checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a username from one address after repeated failures; another address, or another name
# from the same address, is not affected, so nobody can lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("STAFF_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
# Counters live in the cache and expire: no table of who tried to log in from where.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/partners/locked_out.html"
if not REDIS_URL:
    # Without Redis the cache is per process; that is right for one development server, which
    # is the only place a deployment runs without Redis (docs/deployment.md).
    SILENCED_SYSTEM_CHECKS += ["axes.W001"]
# A staff session ends after this long without a request, and at the latest after
# SESSION_COOKIE_AGE or when the browser closes (partners/admin_site.py).
STAFF_SESSION_IDLE_SECONDS = int(os.environ.get("STAFF_SESSION_IDLE_SECONDS", str(30 * 60)))
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "NCII portal")
# Backup codes handed out at enrolment (django-otp's static device).
STAFF_BACKUP_CODES = 10

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Hong Kong's written languages first (Traditional Chinese, then those of its communities), then
# the widest services'. The switcher shows each in its own name (Django's LANG_INFO).
LANGUAGES = [
    ("en", _("English")),
    ("zh-hant", _("Traditional Chinese")),
    ("zh-hans", _("Simplified Chinese")),
    ("fil", _("Filipino")),
    ("id", _("Indonesian")),
    ("hi", _("Hindi")),
    ("ur", _("Urdu")),
    ("ne", _("Nepali")),
    ("th", _("Thai")),
    ("vi", _("Vietnamese")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("pt-br", _("Brazilian Portuguese")),
    ("ar", _("Arabic")),
    ("ko", _("Korean")),
    ("ja", _("Japanese")),
]
# Django knows no Filipino; teach it the name, and send Tagalog browsers ("tl") to it.
LANG_INFO.setdefault("fil", {"bidi": False, "code": "fil", "name": "Filipino", "name_local": "Filipino"})
LANG_INFO.setdefault("tl", {"fallback": ["fil"]})
# Ours first; then Django REST framework's messages for the languages its release has no catalog
# for (fil, hi, ur, and ko and ne, which it ships only as ko_KR and ne_NP). makemessages writes
# only to the first.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "drf_locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Remembering the language is a preference, not tracking: no expiry beyond a year, first-party only.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security headers ------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_flag("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
# Other hosts never learn which page a visitor came from. ("no-referrer" would also make browsers
# send "Origin: null" with our own forms, which CSRF protection then rightly refuses.)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# Scripts only from our own origin; 'wasm-unsafe-eval' lets the hashing module compile WebAssembly
# without allowing eval() of JavaScript. Nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, "'wasm-unsafe-eval'"],
        "style-src": [SELF],
        # Thumbnails of the picked files are object URLs: they never leave the device.
        "img-src": [SELF, "blob:"],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ncii_portal.api.BoundedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "ncii_portal.api.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per API key and scope (partners.authentication.ApiKeyThrottle). A full sync of a million
    # hashes is a thousand pages, so fetching is generous; writes are not.
    "DEFAULT_THROTTLE_RATES": {
        "fetch": os.environ.get("API_RATE_FETCH", "6000/min"),
        "match": os.environ.get("API_RATE_MATCH", "12000/min"),
        "feedback": os.environ.get("API_RATE_FEEDBACK", "600/min"),
        "submit": os.environ.get("API_RATE_SUBMIT", "120/min"),
        # Per client (a keyed hash of its address, kept only in the cache) on the case API: the
        # outer guard against guessing, around the per-case PIN lockout.
        "case_create": os.environ.get("CASE_RATE_CREATE", "30/hour"),
        "case_access": os.environ.get("CASE_RATE_ACCESS", "60/hour"),
    },
}
API_MAX_BODY_BYTES = 1024 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": "NCII portal API",
    "DESCRIPTION": (
        "Hashes of intimate images shared without consent, for platforms to block. "
        "Send your key as `Authorization: Bearer <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "HashStatusEnum": ["active", "withdrawn", "held"],
        "MatchStatusEnum": ["active", "withdrawn"],
    },
}
# Bodies larger than this are refused before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Logging ---------------------------------------------------------------------------------
# Plain console logs for the process manager to collect. Nothing here logs request bodies, and
# no URL carries a case number or PIN, so access logs cannot join a case to an address.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # The request logger prints the path and status of every 4xx; that is noise, not a fault.
        "django.request": {"level": "ERROR"},
        # faiss reports at start-up which CPU build it tried; that is not news in a log.
        "faiss.loader": {"level": "WARNING"},
        # django-axes names the username and address in its warnings; we keep neither in logs.
        "axes": {"level": "CRITICAL"},
    },
}

# --- Admin ------------------------------------------------------------------------------------
# modeltranslation's language tabs need jQuery UI, which it would load from Google's CDN; we serve
# our own copy (from npm's jquery-ui 1.14.2, MIT) so no page asks another host for anything.
JQUERY_UI_URL = "vendor/jquery-ui/jquery-ui.min.js"
# Not used by the tab admin we use, but set so that no modeltranslation class can reach a CDN.
JQUERY_URL = "admin/js/vendor/jquery/jquery.min.js"
