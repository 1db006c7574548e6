from django.shortcuts import render

from .permissions import ALL_ROLES, study_view


@study_view(*ALL_ROLES)
def study_home(request, slug):
    study = request.study
    phases = study.phases.prefetch_related("research_questions")
    return render(
        request,
        "studies/home.html",
        {"phases": phases, "research_questions": study.research_questions.all()},
    )
