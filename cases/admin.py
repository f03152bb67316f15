"""Cases in the partner workspace: scoped to the staff member's NGO, every look at one audited."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy as _

from partners.admin_scoping import MEMBER, NOBODY, ScopedModelAdmin
from partners.models import CaseNote
from partners.selectors import cases_visible_to
from partners.services import case_note_create, case_viewed

from .models import Case, CaseHash
from .services import case_withdraw


class _StaffInlineMixin:
    """Inlines inside a case page: anyone who may see the case sees them; nobody edits them."""

    can_delete = False
    extra = 0

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or obj is None or cases_visible_to(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CaseHashInline(_StaffInlineMixin, admin.TabularInline):
    model = CaseHash
    verbose_name = _("hash")
    verbose_name_plural = _("hashes (no image is ever stored: only these fingerprints)")
    fields = ["signal_type", "short_value", "quality", "added_at", "hash_status", "review", "platform_feedback"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("hash_record").prefetch_related(
            "hash_record__feedback__organisation"
        )

    @admin.display(description=_("type"))
    def signal_type(self, obj: CaseHash) -> str:
        return obj.hash_record.get_signal_type_display()

    @admin.display(description=_("hash"))
    def short_value(self, obj: CaseHash) -> str:
        return str(obj.hash_record)

    @admin.display(description=_("quality"))
    def quality(self, obj: CaseHash):
        return obj.hash_record.quality if obj.hash_record.quality is not None else "–"

    @admin.display(description=_("status"))
    def hash_status(self, obj: CaseHash) -> str:
        return obj.hash_record.get_status_display()

    @admin.display(description=_("review"))
    def review(self, obj: CaseHash) -> str:
        return obj.hash_record.get_review_display()

    @admin.display(description=_("each platform's feedback"))
    def platform_feedback(self, obj: CaseHash):
        current = [f for f in obj.hash_record.feedback.all() if f.is_current]
        if not current:
            return gettext("none yet")
        return format_html(
            '<ul class="feedback-list">{}</ul>',
            format_html_join(
                "", "<li>{}: {} ({})</li>",
                ((f.organisation, f.get_verdict_display(), f"{f.created_at:%Y-%m-%d}") for f in current),
            ),
        )


class CaseNoteInline(_StaffInlineMixin, admin.TabularInline):
    model = CaseNote
    verbose_name_plural = _("internal notes (staff only)")
    fields = ["created_at", "author", "text"]
    readonly_fields = fields


class CaseNoteForm(forms.Form):
    text = forms.CharField(label=_("Add an internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this case being withdrawn?"),
        help_text=_("For example: the person asked by phone on this date. Do not write their name."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
    )


@admin.register(Case)
class CaseAdmin(ScopedModelAdmin):
    view_by = MEMBER
    change_by = MEMBER  # withdraw and notes; every field stays read-only
    add_by = NOBODY  # through "open a case for someone", which hashes in the browser
    delete_by = NOBODY
    list_display = ["display_number", "status", "language", "hash_count", "organisation", "created_at"]
    list_filter = ["status", "language", "organisation"]
    staff_list_filter = ["status", "language"]
    search_fields = ["=number"]
    # The PIN hash is never shown: it is useless to staff and only helps an attacker.
    fields = ["number", "status", "language", "organisation", "created_at", "withdrawn_at"]
    readonly_fields = fields
    inlines = [CaseHashInline, CaseNoteInline]
    actions = ["export_csv"]
    change_form_template = "admin/cases/case/change_form.html"

    def get_list_display(self, request):
        if request.user.is_superuser:
            return self.list_display
        return [f for f in self.list_display if f != "organisation"]

    def get_queryset(self, request):
        from django.db.models import Count

        # Explicit order: Meta.ordering does not apply to a grouped (annotated) query, and the
        # autocomplete pages it without the change list's own ordering.
        return super().get_queryset(request).annotate(_hash_count=Count("case_hashes")).order_by("-created_at", "-pk")

    def scope(self, queryset, membership, request):
        return queryset.filter(pk__in=cases_visible_to(request.user).values("pk"))

    def get_search_results(self, request, queryset, search_term):
        """Search by case number (as people write it) or by a hash the case holds."""
        from hashes.signal_types import signal_type_for_value

        from .identifiers import normalise_case_number

        kind = signal_type_for_value(search_term)
        if kind is not None and search_term.strip().lower().isalnum():
            # A platform or colleague may only have the hash: find the cases holding it, within
            # the cases this member may see (queryset is already scoped).
            value = search_term.strip().lower()
            return queryset.filter(hash_records__signal_type=kind.code, hash_records__value=value).distinct(), True
        return super().get_search_results(request, queryset, normalise_case_number(search_term) or search_term)

    @admin.display(description=_("hashes"), ordering="_hash_count")
    def hash_count(self, obj: Case) -> int:
        return obj._hash_count

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("assist/", self.admin_site.admin_view(self.assist_view), name="%s_%s_assist" % info),
            path("<path:object_id>/withdraw/", self.admin_site.admin_view(self.withdraw_view),
                 name="%s_%s_withdraw" % info),
        ] + super().get_urls()

    # Every look at a case is audited, in the same transaction as the page it produces.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        with transaction.atomic():
            case = self.get_object(request, object_id)
            if case is not None and self.has_view_or_change_permission(request, case):
                case_viewed(case=case, actor=request.user)
                if request.method == "POST" and self.has_change_permission(request, case):
                    return self._add_note(request, case)
            extra_context = {**(extra_context or {}), "note_form": CaseNoteForm()}
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response

    def history_view(self, request, object_id, extra_context=None):
        with transaction.atomic():
            case = self.get_object(request, object_id)
            if case is not None and self.has_view_or_change_permission(request, case):
                case_viewed(case=case, actor=request.user, action="case.view.history")
            response = super().history_view(request, object_id, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response

    def _add_note(self, request, case: Case):
        form = CaseNoteForm(request.POST)
        if form.is_valid():
            case_note_create(case=case, text=form.cleaned_data["text"], actor=request.user)
            self.message_user(request, gettext("Note added."), messages.SUCCESS)
        else:
            self.message_user(request, gettext("Write a note first."), messages.ERROR)
        return HttpResponseRedirect(request.path)

    def withdraw_view(self, request, object_id):
        case = self.get_object(request, object_id)
        if case is None or not self.has_change_permission(request, case):
            # The same answer whether the case exists elsewhere or not at all.
            raise PermissionDenied
        form = WithdrawForm(request.POST or None)
        if case.status == Case.Status.ACTIVE and request.method == "POST" and form.is_valid():
            case_withdraw(case=case, actor=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, gettext("The case is withdrawn. Platforms are told to delete its hashes."),
                              messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        with transaction.atomic():
            case_viewed(case=case, actor=request.user)
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Withdraw case %(number)s") % {"number": case.display_number},
                "case": case,
                "form": form,
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/cases/case/withdraw.html", context).render()

    def assist_view(self, request):
        from partners.views_assist import assisted_case

        return assisted_case(request, self)

    @admin.action(description=_("Export the selected cases (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cases.csv"'
        writer = csv.writer(response)
        writer.writerow(["case_number", "status", "language", "created", "withdrawn", "hashes"])
        with transaction.atomic():
            for case in queryset.order_by("created_at"):
                case_viewed(case=case, actor=request.user, action="case.export")
                writer.writerow([case.display_number, case.status, case.language, case.created_at.isoformat(),
                                 case.withdrawn_at.isoformat() if case.withdrawn_at else "", case._hash_count])
        return response
