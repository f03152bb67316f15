"""Admin actions that need a reason: they ask for it on a page of their own before acting."""

from django import forms
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail. Do not write anyone's name."),
    )


def with_reason(modeladmin, request, queryset, *, title: str, apply) -> TemplateResponse | None:
    """Show a reason form for this action; once it is filled in, call apply(obj, reason) for each."""
    form = ReasonForm(request.POST if "reason" in request.POST else None)
    if form.is_bound and form.is_valid():
        count = 0
        for obj in queryset:
            apply(obj, form.cleaned_data["reason"])
            count += 1
        modeladmin.message_user(request, _("Done for %(count)d items.") % {"count": count})
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/partners/action_reason.html", context)
