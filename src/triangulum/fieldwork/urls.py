from django.urls import path

from . import views

app_name = "fieldwork"
urlpatterns = [
    path("", views.wave_list, name="index"),
    path("waves/<int:number>/console/", views.console, name="console"),
    path("waves/<int:number>/next/", views.take_next, name="next"),
    path("waves/<int:number>/dashboard/", views.dashboard, name="dashboard"),
    path("waves/<int:number>/exports/", views.exports, name="exports"),
    path("waves/<int:number>/exports/<slug:kind>/", views.export_file, name="export"),
    path("waves/<int:number>/respondents/", views.respondents, name="respondents"),
    path("waves/<int:number>/paper/", views.paper_list, name="paper"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/call/", views.record_call, name="call"),
    path("cases/<int:pk>/ask/", views.ask, name="ask"),
    path("paper/<int:pk>/", views.paper_ask, name="paper_ask"),
]
