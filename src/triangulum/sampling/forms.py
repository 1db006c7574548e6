from django import forms

from triangulum.organisations.models import OrganisationType

from .actions import DEFAULT_PURPOSIVE_ATTRIBUTES
from .designs import ALLOCATIONS
from .models import Sample
from .queries import FRAME_ATTRIBUTES, STRATUM_ATTRIBUTES


class DrawSampleForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Leave empty for a name that describes the design.",
    )
    method = forms.ChoiceField(choices=Sample.Method.choices)
    org_type = forms.ChoiceField(
        label="Frame: type of organisation",
        choices=OrganisationType.choices,
        initial=OrganisationType.CCG,
    )
    vintage = forms.DateField(
        label="Frame: open on (vintage)",
        required=False,
        initial="2013-04-01",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only organisations open on this day. Empty: all of that type.",
    )
    region = forms.CharField(
        label="Frame: region (optional)",
        required=False,
        help_text="An NHS England region's ODS code or name.",
    )
    strata = forms.ChoiceField(
        label="Stratified: strata",
        choices=[(name, name.replace("_", " ")) for name in STRATUM_ATTRIBUTES],
        initial="region",
    )
    allocation = forms.ChoiceField(
        label="Stratified: allocation",
        choices=[(name, name) for name in ALLOCATIONS if name != "fixed"],
        help_text="Proportional to stratum size, or equal in each stratum.",
    )
    attributes = forms.CharField(
        label="Purposive: attributes to vary",
        initial=",".join(DEFAULT_PURPOSIVE_ATTRIBUTES),
        help_text="Comma-separated; any of " + ", ".join(FRAME_ATTRIBUTES) + ".",
        required=False,
    )
    n = forms.IntegerField(
        label="Sample size (n)",
        min_value=1,
        required=False,
        help_text="Stratified and purposive: how many organisations to choose.",
    )
    seed = forms.IntegerField(
        min_value=0,
        required=False,
        initial=1,
        help_text="Stratified and purposive: the same seed and frame give the same sample.",
    )

    def clean(self):
        data = super().clean()
        method = data.get("method")
        if method and method != Sample.Method.CENSUS:
            if data.get("n") is None:
                self.add_error("n", f"A {method} sample needs a sample size.")
            if data.get("seed") is None:
                self.add_error("seed", f"A {method} sample needs a seed, so it can be redrawn.")
        if method == Sample.Method.PURPOSIVE and not (data.get("attributes") or "").strip():
            self.add_error("attributes", "Name at least one attribute to vary.")
        return data
