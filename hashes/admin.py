from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy as _

from partners.admin_actions import with_reason
from partners.admin_scoping import MEMBER, NOBODY, ScopedModelAdmin
from partners.selectors import hash_records_visible_to

from .models import HashRecord
from .services import hash_record_flag


@admin.register(HashRecord)
class HashRecordAdmin(ScopedModelAdmin):
    view_by = MEMBER
    change_by = NOBODY  # records change through cases and reviews only
    list_display = ["signal_type", "short_value", "quality", "status", "review", "created_at", "modified_at"]
    list_filter = ["signal_type", "status", "review"]
    staff_list_filter = list_filter
    search_fields = ["=value"]
    readonly_fields = ["signal_type", "value", "quality", "status", "review", "created_at", "modified_at",
                       "withdrawn_at"]
    date_hierarchy = "created_at"
    actions = ["flag_for_review"]

    def scope(self, queryset, membership, request):
        return queryset.filter(pk__in=hash_records_visible_to(request.user).values("pk"))

    @admin.display(description=_("value"))
    def short_value(self, obj: HashRecord) -> str:
        return f"{obj.value[:16]}…"

    # Records change only through cases, so the aggregate status can never drift from them.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Put in the review queue"), permissions=["view"])
    def flag_for_review(self, request, queryset):
        return with_reason(
            self, request, queryset, title=gettext("Put in the review queue"),
            apply=lambda record, reason: hash_record_flag(record=record, reason=reason, actor=request.user),
        )
