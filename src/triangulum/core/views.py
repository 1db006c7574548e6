from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The studies the signed-in user is a member of (and nothing about any other)."""
    memberships = request.user.study_memberships.select_related("study").order_by("study__title")
    return render(request, "core/home.html", {"memberships": memberships})
