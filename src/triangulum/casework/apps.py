from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "triangulum.casework"
    label = "casework"
