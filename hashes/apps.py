from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HashesConfig(AppConfig):
    name = "hashes"
    verbose_name = _("Hashes")
