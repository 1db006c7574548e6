from .navigation import nav_for


def study(request):
    return {
        "study": getattr(request, "study", None),
        "membership": getattr(request, "membership", None),
        "study_nav": nav_for(request),
    }
