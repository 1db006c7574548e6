from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "triangulum.audit"
    label = "audit"
