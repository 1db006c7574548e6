"""Who may see what: every study page names the roles that may open it, and no other.

Deny by default: a user who is not signed in is sent to sign in; a signed-in user who
is not a member of the study gets 404 (the study's existence is not revealed); a member
whose role is not named gets 403.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from .models import Role, Study, StudyMembership

ALL_ROLES = frozenset(Role.values)
# Roles that may see participants' real names and contact details.
CONTACT_ROLES = frozenset({Role.LEAD, Role.INTERVIEWER})


def membership_for(user, study: Study) -> StudyMembership | None:
    if not user.is_authenticated:
        return None
    return StudyMembership.objects.filter(study=study, user=user).first()


def study_view(*roles: str) -> Callable:
    """Decorate a view taking ``slug``; it receives ``request.study`` and ``request.membership``."""
    allowed = frozenset(roles)
    unknown = allowed - ALL_ROLES
    if not allowed or unknown:
        raise ValueError(f"study_view needs roles from {sorted(ALL_ROLES)}, got {sorted(roles)}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # One query for the study and the user's place in it (every study page pays
            # it): the membership with its study, unordered, as there is at most one.
            membership = (
                StudyMembership.objects.select_related("study")
                .filter(study__slug=slug, user=request.user)
                .order_by()
                .first()
            )
            if membership is None:
                raise Http404("No such study, or you are not a member of it.")
            if membership.role not in allowed:
                raise PermissionDenied(
                    f"Your role in this study ({membership.get_role_display()}) does not "
                    "give access to this page."
                )
            request.study = membership.study
            request.membership = membership
            return view(request, slug, *args, **kwargs)

        wrapped.study_roles = allowed
        return wrapped

    return decorate
