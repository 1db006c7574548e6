"""Web self-completion: public pages reached only through a respondent's unguessable link."""

from django.urls import path

from . import views

app_name = "fieldwork_public"
urlpatterns = [
    path("<str:token>/", views.respond, name="respond"),
]
