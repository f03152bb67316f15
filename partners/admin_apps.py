from django.contrib.admin.apps import AdminConfig


class PartnerAdminConfig(AdminConfig):
    """Django's admin, with the partner workspace's site (two-factor, scoped) as the default site."""

    default_site = "partners.admin_site.PartnerAdminSite"
