from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "triangulum.reports"
    label = "reports"
