from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("frame/", views.frame, name="frame"),
    path("organisations/<str:org_type>/<str:code>/", views.detail, name="detail"),
]
