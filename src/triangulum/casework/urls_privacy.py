from django.urls import path

from . import views_privacy as views

app_name = "casework_privacy"
urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("scan/", views.scan, name="scan"),
    path("candidates/<int:candidate_id>/", views.decide, name="decide"),
    path("accept-kind/", views.accept_kind, name="accept_kind"),
    path("key/", views.key, name="key"),
    path("key/add/", views.add_identifier, name="add_identifier"),
    path("sources/", views.anonymised_list, name="sources"),
    path("sources/<int:source_id>/", views.anonymised_source, name="source"),
    path("export/", views.export, name="export"),
]
