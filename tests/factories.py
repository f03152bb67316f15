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


def staff_member(organisation, role: str = "caseworker", username: str | None = None, password: str | None = None):
    """A staff account in an NGO, with a confirmed authenticator (its TOTPDevice is user.totp)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from partners.models import Membership

    user = UserFactory(username=username) if username else UserFactory()
    if password:
        user.set_password(password)
        user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    user.totp = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def login_verified(client, user) -> None:
    """Sign a test client in as if the password and a second factor had been given."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = getattr(user, "totp", None) or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
