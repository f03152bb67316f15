"""Public pages: the partner directory and the help page, in the visitor's language."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import get_language
from modeltranslation.utils import build_localized_fieldname

from .selectors import help_entries_public, ngo_partners_public


def _missing_translation(obj, fields: list[str]) -> bool:
    """True when a field has text in the fallback (English) but none in the visitor's language."""
    language = get_language() or settings.LANGUAGE_CODE
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    if language == default:
        return False
    # modeltranslation's own names: "id" (Indonesian) becomes "ind", as "name_id" would clash.
    return any(
        getattr(obj, build_localized_fieldname(f, default), "")
        and not getattr(obj, build_localized_fieldname(f, language), "")
        for f in fields
    )


def directory(request):
    fields = ["name", "description", "services", "hours", "region", "help_text"]
    partners = [(o, _missing_translation(o, fields)) for o in ngo_partners_public()]
    return render(request, "partners/directory.html", {"partners": partners})


def help_page(request):
    entries = [(e, _missing_translation(e, ["question", "answer"])) for e in help_entries_public()]
    return render(request, "partners/help.html", {"entries": entries})
