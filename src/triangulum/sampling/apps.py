from django.apps import AppConfig


class SamplingConfig(AppConfig):
    name = "triangulum.sampling"
    label = "sampling"

    def ready(self):
        from triangulum.studies.queries import register_phase_contents

        from .queries import samples_by_phase

        register_phase_contents(samples_by_phase)
