import datetime as dt

from django import forms
from django.utils import timezone

from . import outcomes, scheduler


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome of this call",
        choices=[("", "Choose an outcome…")] + [(o.key, o.label) for o in outcomes.OFFERED],
    )
    number_dialled = forms.ChoiceField(label="Number dialled", required=False)
    appointment_at = forms.DateTimeField(
        label="Appointment (UK time; for appointments only)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number_dialled"].choices = [(n, n) for n in numbers] or [("", "(no number)")]

    def clean_appointment_at(self):
        value = self.cleaned_data.get("appointment_at")
        if value is not None and timezone.is_naive(value):
            value = value.replace(tzinfo=scheduler.LONDON)
        return value

    def clean(self):
        data = super().clean()
        if data.get("outcome") in outcomes.APPOINTMENT_OUTCOMES and not data.get("appointment_at"):
            self.add_error("appointment_at", "Give the appointment's date and time.")
        return data


class RespondentsUploadForm(forms.Form):
    file = forms.FileField(label="Respondents (CSV)")


def london_input_value(moment: dt.datetime) -> str:
    return timezone.localtime(moment, scheduler.LONDON).strftime("%Y-%m-%dT%H:%M")
