from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="core/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("triangulum.core.urls")),
    path("studies/<slug:slug>/", include("triangulum.studies.urls")),
    path("studies/<slug:slug>/", include("triangulum.organisations.urls")),
    path("studies/<slug:slug>/", include("triangulum.sampling.urls")),
    path("studies/<slug:slug>/fieldwork/", include("triangulum.fieldwork.urls")),
    path("r/", include("triangulum.fieldwork.public_urls")),
    path("studies/<slug:slug>/casework/", include("triangulum.casework.urls")),
    path("studies/<slug:slug>/casework/privacy/", include("triangulum.casework.urls_privacy")),
    path(
        "studies/<slug:slug>/casework/initiatives/",
        include("triangulum.casework.urls_initiatives"),
    ),
    path("studies/<slug:slug>/analysis/", include("triangulum.analysis.urls")),
    path("studies/<slug:slug>/integration/", include("triangulum.integration.urls")),
    path("studies/<slug:slug>/reports/", include("triangulum.reports.urls")),
]
