from django.apps import AppConfig


class SamplingConfig(AppConfig):
    name = "triangulum.sampling"
    label = "sampling"
