from django.contrib import admin

from .models import HashRecord


@admin.register(HashRecord)
class HashRecordAdmin(admin.ModelAdmin):
    list_display = ["signal_type", "short_value", "quality", "status", "created_at", "modified_at"]
    list_filter = ["signal_type", "status"]
    search_fields = ["=value"]
    readonly_fields = ["signal_type", "value", "quality", "status", "created_at", "modified_at", "withdrawn_at"]
    date_hierarchy = "created_at"

    @admin.display(description="value")
    def short_value(self, obj: HashRecord) -> str:
        return f"{obj.value[:16]}…"

    # Records change only through cases, so the aggregate status can never drift from them.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
