from django.urls import path

from . import views_initiatives as views

app_name = "casework_initiatives"
urlpatterns = [
    path("", views.initiative_list, name="list"),
    path("new/", views.initiative_create, name="create"),
    path("<int:initiative_id>/", views.initiative_detail, name="detail"),
    path("<int:initiative_id>/edit/", views.initiative_edit, name="edit"),
    path("<int:initiative_id>/sources/", views.initiative_link_source, name="link_source"),
    path("<int:initiative_id>/memos/", views.initiative_memo, name="memo"),
]
