from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "triangulum.studies"
    label = "studies"
