from django.db.models import QuerySet

from .models import Organisation


def ngo_partners_public() -> QuerySet[Organisation]:
    """NGOs shown to visitors as local help, operator first."""
    return Organisation.objects.filter(kind=Organisation.Kind.NGO, is_active=True).order_by("-is_operator", "name")
