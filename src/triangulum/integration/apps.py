from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "triangulum.integration"
    label = "integration"
