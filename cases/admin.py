from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _, ngettext

from .models import Case, CaseHash
from .services import case_withdraw


class CaseHashInline(admin.TabularInline):
    model = CaseHash
    fields = ["hash_record", "added_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["display_number", "status", "language", "organisation", "created_at"]
    list_filter = ["status", "language", "organisation"]
    search_fields = ["=number"]
    # The PIN hash is never shown: it is useless to staff and only helps an attacker.
    fields = ["number", "status", "language", "organisation", "created_at", "withdrawn_at"]
    readonly_fields = fields
    inlines = [CaseHashInline]
    actions = ["withdraw"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        # People read case numbers with dashes and spaces; search the canonical form.
        from .identifiers import normalise_case_number

        return super().get_search_results(request, queryset, normalise_case_number(search_term) or search_term)

    @admin.action(description=_("Withdraw the selected cases"), permissions=["change"])
    def withdraw(self, request, queryset) -> None:
        count = 0
        for case in queryset.filter(status=Case.Status.ACTIVE):
            case_withdraw(case=case, actor=request.user, reason="admin action")
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d case withdrawn.", "%(count)d cases withdrawn.", count) % {"count": count},
            messages.SUCCESS,
        )
