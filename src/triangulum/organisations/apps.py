from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "triangulum.organisations"
    label = "organisations"
