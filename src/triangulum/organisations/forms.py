from datetime import date

from django import forms

from . import queries
from .models import OrganisationType

# The vintage a frame opens at when none is asked for: the study's first survey frame
# for CCGs (and the practices and HWBs of that year), the ICBs' first day for the rest.
DEFAULT_VINTAGE = {
    OrganisationType.CCG: date(2013, 4, 1),
    OrganisationType.ICB: date(2022, 7, 1),
    OrganisationType.SUB_ICB: date(2022, 7, 1),
    OrganisationType.HWB: date(2013, 4, 1),
    OrganisationType.PRACTICE: date(2013, 4, 1),
}


class FrameFilterForm(forms.Form):
    type = forms.ChoiceField(label="Organisation type", choices=OrganisationType.choices)
    vintage = forms.DateField(
        label="Open on (vintage)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave empty for every organisation that ever existed.",
    )
    region = forms.ChoiceField(label="NHS England region", required=False)
    min_patients = forms.IntegerField(
        label="Registered patients, at least", required=False, min_value=0
    )
    max_patients = forms.IntegerField(
        label="Registered patients, at most", required=False, min_value=0
    )
    q = forms.CharField(label="Name or code contains", required=False, max_length=100)
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[("", "")] + [(k, k) for key in queries.SORT_FIELDS for k in (key, f"-{key}")],
    )

    def __init__(self, data, *args, **kwargs):
        data = data.copy()
        org_type = data.get("type") or OrganisationType.CCG
        data.setdefault("type", org_type)
        # Only a first visit (no vintage in the query at all) gets the default; an
        # emptied field means "any date".
        if "vintage" not in data and org_type in DEFAULT_VINTAGE:
            data["vintage"] = DEFAULT_VINTAGE[org_type].isoformat()
        super().__init__(data, *args, **kwargs)
        self.fields["region"].choices = [("", "All regions")] + [
            (code, f"{name} ({code})") for code, name in queries.regions()
        ]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_patients"), cleaned.get("max_patients")
        if low is not None and high is not None and low > high:
            self.add_error("max_patients", "Must be at least the minimum.")
        return cleaned
