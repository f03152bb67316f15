"""The assisted case: a caseworker opens a case for a victim, hashing the files in their own browser.

The page posts only hashes (the file input has no name, so a file cannot be sent even by accident);
the answer shows the case number and PIN once, and is never cached.
"""

import json

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _, gettext_lazy

from .selectors import staff_membership
from .services import assisted_case_create


class AssistedCaseForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("The person's language"), choices=settings.LANGUAGES)
    # Filled in by static/js/assisted-case.js: a JSON list of {signal_type, value, quality}.
    hashes = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_hashes(self) -> list[dict]:
        try:
            value = json.loads(self.cleaned_data["hashes"] or "[]")
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(isinstance(h, dict) for h in value):
            raise ValidationError(_("The fingerprints could not be read. Add the files again."))
        if not value:
            raise ValidationError(_("Add at least one file first."))
        if len(value) > settings.CASE_MAX_HASHES_PER_REQUEST:
            raise ValidationError(_("Too many files at once."))
        return [{"signal_type": h.get("signal_type"), "value": h.get("value"), "quality": h.get("quality")}
                for h in value]


def assisted_case(request, model_admin):
    if staff_membership(request.user) is None:
        # A superuser without an NGO has no organisation for the case to belong to.
        raise PermissionDenied
    form = AssistedCaseForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts,
               "title": _("Open a case for someone"), "form": form,
               "max_files": settings.CASE_MAX_HASHES_PER_REQUEST}
    if request.method == "POST" and form.is_valid():
        try:
            new = assisted_case_create(hashes=form.cleaned_data["hashes"], language=form.cleaned_data["language"],
                                       actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            context.update(title=_("Case opened"), case=new.case, pin=new.pin)
            response = TemplateResponse(request, "admin/partners/assisted_case_done.html", context)
            # The PIN is shown this once: no copy may stay in a cache or the browser's history.
            response["Cache-Control"] = "no-store"
            return response
    return TemplateResponse(request, "admin/partners/assisted_case.html", context)
