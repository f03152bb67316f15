"""Per-organisation scoping for every admin class of the partner workspace.

Staff permissions come from their role in their NGO, not from Django's permission tables, so that a
grant made by hand can never widen what someone sees. Superusers keep Django's own rules.
Every list, search, filter, detail page, action, export and autocomplete reads through
`get_queryset`, which each admin narrows with `scope()`; an object outside it is "not found".
"""

from django.contrib import admin

from .models import Membership
from .selectors import staff_membership

# Who, besides superusers, may do a thing.
NOBODY = "nobody"
MEMBER = "member"  # any staff member of an active NGO
MANAGER = "manager"  # a manager of their NGO
OPERATOR_MANAGER = "operator_manager"  # a manager of the NGO that runs the portal


def role_allows(membership: Membership | None, who: str) -> bool:
    if membership is None or who == NOBODY:
        return False
    if who == MEMBER:
        return True
    if membership.role != Membership.Role.MANAGER:
        return False
    return who == MANAGER or (who == OPERATOR_MANAGER and membership.organisation.is_operator)


class ScopedAdminMixin:
    """Narrow a ModelAdmin to the staff member's organisation; deny by default."""

    view_by = NOBODY
    add_by = NOBODY
    change_by = NOBODY
    delete_by = NOBODY
    # Filters over other organisations would list their names; staff get these instead.
    staff_list_filter: list | None = None

    def scope(self, queryset, membership: Membership, request):
        raise NotImplementedError

    def membership(self, request) -> Membership | None:
        if not hasattr(request, "_staff_membership"):
            request._staff_membership = staff_membership(request.user)
        return request._staff_membership

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        membership = self.membership(request)
        if membership is None:
            return queryset.none()
        return self.scope(queryset, membership, request)

    def get_list_filter(self, request):
        if request.user.is_superuser or self.staff_list_filter is None:
            return super().get_list_filter(request)
        return self.staff_list_filter

    def _may(self, request, who: str, obj, default) -> bool:
        if request.user.is_superuser:
            return default()
        if not role_allows(self.membership(request), who):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        if request.user.is_superuser:
            return super().has_module_permission(request)
        return role_allows(self.membership(request), self.view_by)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request, self.view_by, obj, lambda: super(ScopedAdminMixin, self).has_view_permission(request, obj)) or (
            not request.user.is_superuser and self._may(request, self.change_by, obj, lambda: False)
        )

    def has_add_permission(self, request, *args) -> bool:
        return self._may(request, self.add_by, None, lambda: super(ScopedAdminMixin, self).has_add_permission(request, *args))

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may(request, self.change_by, obj, lambda: super(ScopedAdminMixin, self).has_change_permission(request, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may(request, self.delete_by, obj, lambda: super(ScopedAdminMixin, self).has_delete_permission(request, obj))


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    pass


class SuperuserOnlyMixin:
    """For admin classes that come with other apps (users, groups, devices): superusers only."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
