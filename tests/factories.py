import secrets

import factory
from django.contrib.auth import get_user_model

from partners.models import Organisation


def random_pdq() -> str:
    return secrets.token_hex(32)


def random_md5() -> str:
    return secrets.token_hex(16)


def pdq(quality: int = 90, value: str | None = None) -> dict:
    return {"signal_type": "pdq", "value": value or random_pdq(), "quality": quality}


def md5(value: str | None = None) -> dict:
    return {"signal_type": "md5", "value": value or random_md5()}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class NgoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.NGO
    slug = factory.Sequence(lambda n: f"ngo-{n}")
    name = factory.Sequence(lambda n: f"NGO {n}")


class PlatformFactory(NgoFactory):
    kind = Organisation.Kind.PLATFORM
    slug = factory.Sequence(lambda n: f"platform-{n}")
    name = factory.Sequence(lambda n: f"Platform {n}")
