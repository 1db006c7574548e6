from django.urls import path

from . import views

app_name = "sampling"
urlpatterns = [
    path("samples/", views.sample_list, name="list"),
    path("samples/<int:sample_id>/", views.sample_detail, name="detail"),
]
