from django.urls import path

from . import views

app_name = "analysis"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("results/<int:result_id>/", views.result_detail, name="result"),
]
