from modeltranslation.translator import TranslationOptions, register

from .models import HelpEntry, Organisation


@register(Organisation)
class OrganisationTranslationOptions(TranslationOptions):
    fields = ("name", "description", "help_text", "services", "hours", "region")
    # English is the fallback every visitor can be shown, so it must be filled in.
    required_languages = ("en",)


@register(HelpEntry)
class HelpEntryTranslationOptions(TranslationOptions):
    fields = ("question", "answer")
    required_languages = ("en",)
