from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _, ngettext
from modeltranslation.admin import TabbedTranslationAdmin

from .models import (
    ApiKey,
    AuditEvent,
    Feedback,
    HashSubmission,
    Membership,
    Organisation,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import api_key_revoke


@admin.register(Organisation)
class OrganisationAdmin(TabbedTranslationAdmin):
    list_display = ["name", "kind", "slug", "is_operator", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    # A partner's website is typed without a scheme more often than not; assume the secure one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["organisation", "role"]
    autocomplete_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "organisation", "name", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organisation"]
    # Only the digest is stored; there is nothing secret to show.
    fields = ["organisation", "name", "prefix", "scopes", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        # Keys are issued with `manage.py create_api_key`, which shows the secret once.
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


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["hash_record", "organisation", "verdict", "is_current", "created_at"]
    list_filter = ["verdict", "is_current", "organisation"]
    readonly_fields = ["organisation", "hash_record", "verdict", "tags", "is_current", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor", "source", "organisation", "case"]
    list_filter = ["action", "source", "organisation"]
    date_hierarchy = "created_at"

    # An audit trail that can be edited is not one.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HashSubmission)
class HashSubmissionAdmin(admin.ModelAdmin):
    list_display = ["hash_record", "organisation", "created_at"]
    list_filter = ["organisation"]
    readonly_fields = ["organisation", "hash_record", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["organisation", "url", "events", "is_active", "created_at"]
    list_filter = ["organisation", "is_active"]
    # The signing secret is shown once, when the webhook is made; never again.
    exclude = ["secret"]
    readonly_fields = ["organisation", "url", "events", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_status_code", "delivered_at"]
    list_filter = ["status", "event", "endpoint__organisation"]
    readonly_fields = [
        "endpoint", "event_id", "event", "payload", "status", "attempts", "last_status_code", "last_error",
        "created_at", "delivered_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
