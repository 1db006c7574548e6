from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "triangulum.fieldwork"
    label = "fieldwork"
