from modeltranslation.translator import TranslationOptions, register

from .models import Organisation


@register(Organisation)
class OrganisationTranslationOptions(TranslationOptions):
    fields = ("name", "description", "help_text")
    # English is the fallback every visitor can be shown, so it must be filled in.
    required_languages = ("en",)
