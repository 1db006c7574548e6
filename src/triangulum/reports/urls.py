from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("build/", views.build, name="build"),
    path("<str:report_kind>/preview/", views.preview, name="preview"),
    path("builds/<int:build_id>/download/", views.download, name="download"),
]
