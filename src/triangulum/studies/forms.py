"""Forms for the study pages. They validate input; the changes themselves go through actions."""

from django import forms

from triangulum.organisations.models import Organisation, OrganisationType

from .actions import StudyActionError
from .models import Role, RoleCategory

# Where an ODS code is shared by several kinds of organisation (a CCG and the sub-ICB
# location that continued it), a participant most likely belongs to the commissioner.
_ODS_PREFERENCE = [
    OrganisationType.CCG,
    OrganisationType.ICB,
    OrganisationType.SUB_ICB,
    OrganisationType.HWB,
    OrganisationType.PRACTICE,
]


class ActionErrorMixin:
    def add_action_error(self, error: StudyActionError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class AddMemberForm(ActionErrorMixin, forms.Form):
    username = forms.CharField(
        max_length=150, help_text="The account must exist already (triangulum createuser)."
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class ChangeRoleForm(ActionErrorMixin, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class RegisterParticipantForm(ActionErrorMixin, forms.Form):
    pseudonym = forms.CharField(
        max_length=40,
        required=False,
        help_text="Leave empty to give the next free identifier (P001, P002, …).",
    )
    role_category = forms.ChoiceField(choices=RoleCategory.choices, label="Role category")
    organisation_code = forms.CharField(
        max_length=12,
        required=False,
        label="Organisation ODS code",
        help_text="Optional, e.g. 02P for a CCG.",
    )

    def clean_organisation_code(self):
        code = self.cleaned_data["organisation_code"].strip().upper()
        self.organisation = None
        if not code:
            return ""
        matches = {o.org_type: o for o in Organisation.objects.filter(ods_code__iexact=code)}
        for org_type in _ODS_PREFERENCE:
            if org_type in matches:
                self.organisation = matches[org_type]
                return code
        if matches:
            self.organisation = next(iter(matches.values()))
            return code
        raise forms.ValidationError(f"No organisation with ODS code '{code}' is loaded.")


class ContactForm(ActionErrorMixin, forms.Form):
    full_name = forms.CharField(max_length=200, label="Full name")
    job_title = forms.CharField(max_length=200, required=False, label="Job title")
    email = forms.EmailField(required=False, label="E-mail")
    phone = forms.CharField(max_length=40, required=False, label="Telephone")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False, label="Who")
    action = forms.ChoiceField(required=False)
    object_type = forms.ChoiceField(required=False, label="Object type")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actors=(), actions=(), object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name, values in (("actor", actors), ("action", actions), ("object_type", object_types)):
            self.fields[name].choices = [("", "Any")] + [(v, v) for v in values]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end of the range is before its start.")
        return cleaned
