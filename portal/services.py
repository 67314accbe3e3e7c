"""Writes for accounts and units. Every write is keyword-only and atomic."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from portal import roles
from portal.models import Municipality, Office, RequisitioningUnit, User


def groups_ensure() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLES}


@transaction.atomic
def unit_get_or_create(
    *, name: str, kind: str = RequisitioningUnit.Kind.GP_PRACTICE, municipality_number: str | None = None
) -> RequisitioningUnit:
    unit = RequisitioningUnit.objects.filter(name=name).first()
    if unit:
        return unit
    municipality = None
    if municipality_number:
        municipality = Municipality.objects.filter(number=municipality_number).first()
        if municipality is None:
            raise ValidationError({"municipality": _("Unknown municipality number %s.") % municipality_number})
    return RequisitioningUnit.objects.create(
        name=name, kind=kind, municipality=municipality, trust=municipality.trust if municipality else None
    )


@transaction.atomic
def portal_user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    unit: RequisitioningUnit | None = None,
    office_code: str | None = None,
    hpr_number: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create (or update) a user with exactly one role, bound to a unit or an office as the role needs."""
    if role not in roles.ROLES:
        raise ValidationError({"role": _("Unknown role %s.") % role})
    if role in (roles.REQUISITIONER, roles.CLERK) and unit is None:
        raise ValidationError({"unit": _("A requisitioner or clerk must belong to a requisitioning unit.")})
    office = None
    if role == roles.OFFICE_STAFF:
        if not office_code:
            raise ValidationError({"office": _("Office staff must be bound to an office.")})
        office = Office.objects.filter(code=office_code).first()
        if office is None:
            raise ValidationError({"office": _("Unknown office code %s.") % office_code})
    user, _created = User.objects.get_or_create(username=username)
    user.unit = unit if role in (roles.REQUISITIONER, roles.CLERK) else None
    user.office = office
    user.hpr_number = hpr_number or user.hpr_number
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    if password:
        user.set_password(password)
    elif not user.has_usable_password():
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    groups = groups_ensure()
    user.groups.set([groups[role]])
    return user


def api_token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key
