"""Roles are Django groups. One place names them and answers "does this user have role X"."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

REQUISITIONER = "requisitioner"
CLERK = "clerk"
OFFICE_STAFF = "office_staff"
AUDITOR = "auditor"

ROLES = {
    REQUISITIONER: _("Requisitioner (clinician)"),
    CLERK: _("Clerk (medical secretary)"),
    OFFICE_STAFF: _("Office staff"),
    AUDITOR: _("Auditor"),
}


def roles_of(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._portal_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))
