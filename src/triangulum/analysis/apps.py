from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "triangulum.analysis"
    label = "analysis"
