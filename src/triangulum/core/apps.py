from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "triangulum.core"
    label = "core"
