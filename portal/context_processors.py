from portal import roles as role_names


def roles(request):
    user_roles = role_names.roles_of(request.user) if hasattr(request, "user") else frozenset()
    return {"portal_roles": user_roles, "ROLE_NAMES": role_names.ROLES}
