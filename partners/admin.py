"""The partner workspace's admin classes: thin, scoped (admin_scoping.py), writes through services."""

import csv

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy as _, ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from modeltranslation.admin import TabbedTranslationAdmin

from hashes.models import HashRecord
from hashes.services import hash_record_review

from .admin_actions import with_reason
from .admin_scoping import (
    MANAGER,
    MEMBER,
    NOBODY,
    OPERATOR_MANAGER,
    ScopedAdminMixin,
    ScopedModelAdmin,
    SuperuserOnlyMixin,
    role_allows,
)
from .forms import ApiKeyIssueForm, StaffMemberAddForm, WebhookForm
from .models import (
    ApiKey,
    AuditEvent,
    Feedback,
    HashSubmission,
    HelpEntry,
    Membership,
    Organisation,
    ReviewItem,
    WebhookDelivery,
    WebhookEndpoint,
)
from .selectors import cases_visible_to, hash_records_visible_to
from .services import (
    api_key_issue,
    api_key_revoke,
    staff_member_add,
    staff_member_remove,
    staff_member_set_role,
    staff_sessions_end,
    staff_two_factor_reset,
    webhook_endpoint_create,
)

_NO_STORE = "no-store"


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, TabbedTranslationAdmin):
    view_by = MEMBER
    change_by = MANAGER  # their own NGO's directory entry; the operator's managers also platforms
    add_by = OPERATOR_MANAGER  # platforms only
    delete_by = NOBODY
    list_display = ["name", "kind", "slug", "region", "is_operator", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    change_form_template = "admin/partners/organisation/change_form.html"
    # A partner's website is typed without a scheme more often than not; assume the secure one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def scope(self, queryset, membership, request):
        visible = Q(pk=membership.organisation_id)
        if role_allows(membership, OPERATOR_MANAGER):
            visible |= Q(kind=Organisation.Kind.PLATFORM)
        return queryset.filter(visible)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        # Staff cannot make an NGO the operator, or turn one kind into another.
        return ("kind", "is_operator") if obj is not None else ("is_operator",)

    def get_changeform_initial_data(self, request):
        return {"kind": Organisation.Kind.PLATFORM, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and not change:
            obj.kind = Organisation.Kind.PLATFORM
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path("<path:object_id>/issue-key/", self.admin_site.admin_view(self.issue_key_view),
                 name="partners_organisation_issue_key"),
            path("<path:object_id>/add-webhook/", self.admin_site.admin_view(self.add_webhook_view),
                 name="partners_organisation_add_webhook"),
        ] + super().get_urls()

    def _platform_for(self, request, object_id) -> Organisation:
        platform = self.get_object(request, object_id)
        allowed = request.user.is_superuser or role_allows(self.membership(request), OPERATOR_MANAGER)
        if platform is None or platform.kind != Organisation.Kind.PLATFORM or not allowed:
            raise PermissionDenied
        return platform

    def _render_once(self, request, template, context):
        response = TemplateResponse(request, template, {**self.admin_site.each_context(request), "opts": self.opts,
                                                        **context})
        # A secret shown once must not be kept by the browser or a proxy.
        response["Cache-Control"] = _NO_STORE
        return response

    def issue_key_view(self, request, object_id):
        platform = self._platform_for(request, object_id)
        form = ApiKeyIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            new = api_key_issue(organisation=platform, scopes=form.cleaned_data["scopes"],
                                name=form.cleaned_data["name"], actor=request.user)
            return self._render_once(request, "admin/partners/secret_once.html", {
                "title": gettext("New API key for %(platform)s") % {"platform": platform},
                "secret": new.secret, "platform": platform,
                "explanation": gettext("Copy this key now and give it to the platform's engineers over a safe "
                                       "channel. It is shown only this once; we keep only a digest of it."),
            })
        return self._render_once(request, "admin/partners/platform_form.html", {
            "title": gettext("Issue an API key to %(platform)s") % {"platform": platform},
            "form": form, "platform": platform,
        })

    def add_webhook_view(self, request, object_id):
        platform = self._platform_for(request, object_id)
        form = WebhookForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _endpoint, secret = webhook_endpoint_create(
                    platform=platform, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return self._render_once(request, "admin/partners/secret_once.html", {
                    "title": gettext("Webhook added for %(platform)s") % {"platform": platform},
                    "secret": secret, "platform": platform,
                    "explanation": gettext("This is the secret the platform uses to check that each push "
                                           "comes from us. It is shown only this once."),
                })
        return self._render_once(request, "admin/partners/platform_form.html", {
            "title": gettext("Add a webhook for %(platform)s") % {"platform": platform},
            "form": form, "platform": platform,
        })


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    view_by = MANAGER
    add_by = MANAGER
    change_by = MANAGER
    delete_by = NOBODY  # "remove from the organisation" also switches the account off
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["organisation", "role"]
    staff_list_filter = ["role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
    actions = ["remove_staff", "reset_two_factor", "end_sessions"]

    def scope(self, queryset, membership, request):
        return queryset.filter(organisation=membership.organisation)

    def get_fields(self, request, obj=None):
        return ["user", "organisation", "role"] if request.user.is_superuser or obj is None else ["user", "role"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "organisation"] if obj is not None else []

    def add_view(self, request, form_url="", extra_context=None):
        if request.user.is_superuser:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        organisation = self.membership(request).organisation
        form = StaffMemberAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                staff_member_add(organisation=organisation, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, gettext("Staff member added."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:partners_membership_changelist"))
        return TemplateResponse(request, "admin/partners/platform_form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form,
            "title": gettext("Add a staff member to %(organisation)s") % {"organisation": organisation},
        })

    def save_model(self, request, obj, form, change):
        if change and not request.user.is_superuser:
            staff_member_set_role(membership=obj, role=obj.role, actor=request.user)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Remove from the organisation (switches the account off)"), permissions=["change"])
    def remove_staff(self, request, queryset):
        for membership in queryset.select_related("user", "organisation"):
            try:
                staff_member_remove(membership=membership, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)

    @admin.action(description=_("Reset two-step sign-in (a lost phone)"), permissions=["change"])
    def reset_two_factor(self, request, queryset):
        for membership in queryset.select_related("user"):
            staff_two_factor_reset(user=membership.user, actor=request.user)
        self.message_user(request, gettext("They will set up two-step sign-in again at their next login."))

    @admin.action(description=_("Log out everywhere"), permissions=["change"])
    def end_sessions(self, request, queryset):
        for membership in queryset.select_related("user"):
            staff_sessions_end(user=membership.user, actor=request.user)


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedModelAdmin):
    view_by = OPERATOR_MANAGER
    change_by = OPERATOR_MANAGER  # revoking only
    list_display = ["prefix", "organisation", "name", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organisation"]
    staff_list_filter = list_filter
    # Only the digest is stored; there is nothing secret to show.
    fields = ["organisation", "name", "prefix", "scopes", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def scope(self, queryset, membership, request):
        return queryset

    def has_add_permission(self, request) -> bool:
        # Keys are issued from a platform's page (or `manage.py create_api_key`): the secret is shown once.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count},
            messages.SUCCESS,
        )


class _ReadOnly:
    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(_ReadOnly, ScopedModelAdmin):
    view_by = MEMBER
    list_display = ["hash_record", "organisation", "verdict", "is_current", "created_at"]
    list_filter = ["verdict", "is_current", "organisation"]
    staff_list_filter = list_filter  # platforms' names are not secret
    readonly_fields = ["organisation", "hash_record", "verdict", "tags", "is_current", "created_at"]

    def scope(self, queryset, membership, request):
        return queryset.filter(hash_record__in=hash_records_visible_to(request.user).values("pk"))


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnly, ScopedModelAdmin):
    view_by = MANAGER
    list_display = ["created_at", "action", "actor", "source", "organisation", "case"]
    list_filter = ["action", "source", "organisation", ("created_at", admin.DateFieldListFilter)]
    staff_list_filter = ["action", "source", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor__username", "action"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "action", "actor", "source", "organisation", "case", "target_type",
                       "target_id", "details"]
    actions = ["export_csv"]

    def scope(self, queryset, membership, request):
        own_staff = Membership.objects.filter(organisation=membership.organisation).values("user_id")
        return queryset.filter(
            Q(organisation=membership.organisation)
            | Q(case__in=cases_visible_to(request.user).values("pk"))
            | Q(actor__in=own_staff)
        )

    def get_list_display(self, request):
        return self.list_display if request.user.is_superuser else [f for f in self.list_display if f != "organisation"]

    # An audit trail that can be edited is not one; change permission is off, view stays on.
    @admin.action(description=_("Export the selected events (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        writer = csv.writer(response)
        writer.writerow(["when", "action", "who", "source", "organisation", "case", "object_type", "object_id",
                         "details"])
        for event in queryset.select_related("actor", "organisation", "case").order_by("created_at", "id"):
            writer.writerow([
                event.created_at.isoformat(), event.action, event.actor.get_username() if event.actor else "",
                event.source, event.organisation or "", event.case or "", event.target_type, event.target_id,
                event.details,
            ])
        return response


@admin.register(HashSubmission)
class HashSubmissionAdmin(_ReadOnly, ScopedModelAdmin):
    view_by = OPERATOR_MANAGER
    list_display = ["hash_record", "organisation", "created_at"]
    list_filter = ["organisation"]
    staff_list_filter = list_filter
    readonly_fields = ["organisation", "hash_record", "created_at"]

    def scope(self, queryset, membership, request):
        return queryset


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedModelAdmin):
    view_by = OPERATOR_MANAGER
    change_by = OPERATOR_MANAGER  # switching a webhook off
    list_display = ["organisation", "url", "events", "is_active", "created_at"]
    list_filter = ["organisation", "is_active"]
    staff_list_filter = list_filter
    # The signing secret is shown once, when the webhook is made; never again.
    exclude = ["secret"]
    readonly_fields = ["organisation", "url", "events", "created_at"]

    def scope(self, queryset, membership, request):
        return queryset

    def has_add_permission(self, request) -> bool:
        # Added from the platform's page, which shows the secret once.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly, ScopedModelAdmin):
    view_by = OPERATOR_MANAGER
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_status_code", "delivered_at"]
    list_filter = ["status", "event", "endpoint__organisation"]
    staff_list_filter = list_filter
    readonly_fields = [
        "endpoint", "event_id", "event", "payload", "status", "attempts", "last_status_code", "last_error",
        "created_at", "delivered_at",
    ]

    def scope(self, queryset, membership, request):
        return queryset


@admin.register(ReviewItem)
class ReviewItemAdmin(_ReadOnly, ScopedModelAdmin):
    """Hashes waiting for a decision: flagged by platforms' feedback or by staff."""

    view_by = MEMBER
    list_display = ["signal_type", "short_value", "quality", "status", "disputes", "created_at"]
    list_filter = ["signal_type"]
    staff_list_filter = list_filter
    readonly_fields = ["signal_type", "value", "quality", "status", "review", "created_at", "modified_at"]
    actions = ["keep", "hold"]

    def scope(self, queryset, membership, request):
        return queryset.filter(pk__in=hash_records_visible_to(request.user).values("pk"))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(review=HashRecord.Review.QUEUED)

    def has_change_permission(self, request, obj=None) -> bool:
        # Deciding is the action; the record's fields are never edited. Actions ask for "view".
        return False

    @admin.display(description=_("value"))
    def short_value(self, obj) -> str:
        return f"{obj.value[:16]}…"

    @admin.display(description=_("platforms that did not block it"))
    def disputes(self, obj) -> int:
        return obj.feedback.filter(is_current=True, verdict=Feedback.Verdict.NOT_BLOCKED).count()

    def _decide(self, request, queryset, decision: str, title: str):
        return with_reason(
            self, request, queryset, title=title,
            apply=lambda record, reason: hash_record_review(
                record=record, decision=decision, reason=reason, actor=request.user
            ),
        )

    @admin.action(description=_("Keep in the feed"), permissions=["view"])
    def keep(self, request, queryset):
        return self._decide(request, queryset, HashRecord.Review.KEPT, gettext("Keep in the feed"))

    @admin.action(description=_("Hold out of the feed"), permissions=["view"])
    def hold(self, request, queryset):
        return self._decide(request, queryset, HashRecord.Review.HELD, gettext("Hold out of the feed"))


@admin.register(HelpEntry)
class HelpEntryAdmin(ScopedAdminMixin, TabbedTranslationAdmin):
    view_by = add_by = change_by = delete_by = MANAGER
    list_display = ["question", "organisation", "position", "is_published", "updated_at"]
    list_filter = ["is_published", "organisation"]
    staff_list_filter = ["is_published"]

    def scope(self, queryset, membership, request):
        visible = Q(organisation=membership.organisation)
        if membership.organisation.is_operator:
            visible |= Q(organisation__isnull=True)  # the portal's general help is the operator's
        return queryset.filter(visible)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation" and not request.user.is_superuser:
            membership = self.membership(request)
            kwargs["queryset"] = Organisation.objects.filter(pk=membership.organisation_id if membership else None)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.required = not (membership and membership.organisation.is_operator)
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# Accounts, groups and devices come with Django and django-otp; only superusers manage them here.
# Managers add and remove their own staff through "memberships" above.
for _model in (get_user_model(), Group, TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        _base = type(admin.site._registry[_model])
        admin.site.unregister(_model)
        admin.site.register(_model, type(f"SuperuserOnly{_base.__name__}", (SuperuserOnlyMixin, _base), {}))
