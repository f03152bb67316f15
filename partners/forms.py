from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKey, Membership, WebhookEndpoint


class ApiKeyIssueForm(forms.Form):
    name = forms.CharField(label=_("Label"), max_length=100, required=False,
                           help_text=_("To tell keys apart, for example “production sync”."))
    scopes = forms.MultipleChoiceField(label=_("What the key may do"), choices=ApiKey.Scope.choices,
                                       widget=forms.CheckboxSelectMultiple)


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("Address"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("Events"), choices=WebhookEndpoint.Event.choices,
                                       widget=forms.CheckboxSelectMultiple)


class StaffMemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("First password"), widget=forms.PasswordInput(render_value=False), min_length=12,
        help_text=_("Give it to them in person. They set up two-step sign-in when they first log in."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
