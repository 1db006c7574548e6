from django.urls import path

from . import views

app_name = "studies"
urlpatterns = [
    path("", views.study_home, name="home"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/role/", views.change_role, name="change_role"),
    path("members/<int:membership_id>/remove/", views.remove_member, name="remove_member"),
    path("participants/", views.participants, name="participants"),
    path("participants/register/", views.register_participant, name="register_participant"),
    path(
        "participants/<int:participant_id>/contact/",
        views.participant_contact,
        name="participant_contact",
    ),
    path("audit/", views.audit, name="audit"),
]
