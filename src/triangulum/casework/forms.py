"""Forms for the case-study pages. They validate input; changes go through actions."""

from django import forms

from triangulum.organisations.models import Organisation, OrganisationType
from triangulum.studies.models import Phase, RoleCategory

from .models import Case, Code, Source

# An ODS code shared by a CCG and its successor names the commissioner first.
_ODS_PREFERENCE = [
    OrganisationType.CCG,
    OrganisationType.ICB,
    OrganisationType.SUB_ICB,
    OrganisationType.HWB,
]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def organisation_for_code(code: str) -> Organisation | None:
    matches = {o.org_type: o for o in Organisation.objects.filter(ods_code__iexact=code)}
    for org_type in _ODS_PREFERENCE:
        if org_type in matches:
            return matches[org_type]
    return next(iter(matches.values()), None)


class ErrorMixin:
    def add_action_error(self, error) -> None:
        field = getattr(error, "field", None)
        self.add_error(
            field if field in self.fields else None, getattr(error, "message", str(error))
        )


class SiteAndPhaseMixin(forms.Form):
    site_code = forms.CharField(
        max_length=12,
        required=False,
        label="Site (ODS code)",
        help_text="Optional: the organisation the source belongs to, e.g. 02P.",
    )
    phase = forms.ModelChoiceField(queryset=Phase.objects.none(), required=False)

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = study.phases.all()
        self.site = None

    def clean_site_code(self):
        code = self.cleaned_data["site_code"].strip().upper()
        if not code:
            return ""
        self.site = organisation_for_code(code)
        if self.site is None:
            raise forms.ValidationError(f"No organisation with ODS code '{code}' is loaded.")
        return code


class SourceFromTextForm(ErrorMixin, SiteAndPhaseMixin):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=Source.Kind.choices)
    text = forms.CharField(
        strip=False,  # the text is stored as given (canonicalised), edges included
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text='Speaker turns such as "Interviewer:", "I:", "R:" or "P3:" are recognised.',
    )
    field_order = ["title", "kind", "site_code", "phase", "text"]


class SourceUploadForm(ErrorMixin, SiteAndPhaseMixin):
    file = forms.FileField(
        help_text="A .txt, .md, .docx, .pdf (with a text layer), .odt, .vtt or .srt file."
    )
    title = forms.CharField(max_length=300, required=False, help_text="Defaults to the file name.")
    kind = forms.ChoiceField(choices=Source.Kind.choices)
    field_order = ["file", "title", "kind", "site_code", "phase"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is {upload.size // (1024 * 1024)} MiB; the limit is 20 MiB."
            )
        return upload


class SourceFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Any")] + Source.Kind.choices)
    site = forms.ChoiceField(required=False)
    phase = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, label="Title contains")

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        sites = (
            Organisation.objects.filter(case_sources__study=study)
            .distinct()
            .order_by("name")
            .values_list("pk", "name")
        )
        self.fields["site"].choices = [("", "Any")] + [(str(pk), name) for pk, name in sites]
        self.fields["phase"].choices = [("", "Any")] + [
            (str(phase.pk), phase.name) for phase in study.phases.all()
        ]


class MemoForm(forms.Form):
    title = forms.CharField(max_length=300, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Memo")


def code_choices(study, *, active_only: bool = True) -> list[tuple[str, str]]:
    """Codes as (id, indented path) in tree order."""
    codes = list(Code.objects.filter(study=study).order_by("order", "name"))
    if active_only:
        codes = [code for code in codes if code.is_active]
    children: dict[int | None, list[Code]] = {}
    known = {code.pk for code in codes}
    for code in codes:
        parent = code.parent_id if code.parent_id in known else None
        children.setdefault(parent, []).append(code)
    ordered: list[tuple[str, str]] = []

    def walk(parent, depth):
        for code in children.get(parent, []):
            ordered.append((str(code.pk), "— " * depth + code.name))
            walk(code.pk, depth + 1)

    walk(None, 0)
    return ordered


class CodeForm(ErrorMixin, forms.Form):
    name = forms.CharField(max_length=200)
    parent = forms.ChoiceField(required=False, label="Parent code")
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    inclusion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Include when"
    )
    exclusion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Exclude when"
    )
    example = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    colour = forms.RegexField(
        regex=r"^(#[0-9A-Fa-f]{6})?$",
        required=False,
        error_messages={"invalid": "Give the colour as #RRGGBB, e.g. #1f77b4."},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    research_questions = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Research questions"
    )

    def __init__(self, *args, study, exclude_code=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = code_choices(study)
        if exclude_code is not None:
            choices = [c for c in choices if c[0] != str(exclude_code.pk)]
        self.fields["parent"].choices = [("", "(top level)")] + choices
        self.fields["research_questions"].choices = [
            (str(q.pk), f"{q.code}: {q.short_name}") for q in study.research_questions.all()
        ]
        self.study = study

    def clean_parent(self):
        value = self.cleaned_data["parent"]
        return Code.objects.filter(study=self.study, pk=value).first() if value else None

    def clean_research_questions(self):
        ids = self.cleaned_data["research_questions"]
        return list(self.study.research_questions.filter(pk__in=ids))


CASE_FILTERS = ("role", "organisation", "region", "sector", "phase")


class RetrievalForm(forms.Form):
    code = forms.ChoiceField()
    include_subcodes = forms.BooleanField(required=False, initial=True, label="Include sub-codes")
    role = forms.ChoiceField(required=False, label="Participant role")
    organisation = forms.CharField(required=False, label="Organisation (name or ODS code)")
    region = forms.CharField(required=False)
    sector = forms.CharField(required=False)
    phase = forms.ChoiceField(required=False)
    coder = forms.ChoiceField(required=False)

    def __init__(self, *args, study, coders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = code_choices(study)
        self.fields["role"].choices = [("", "Any")] + list(RoleCategory.choices)
        self.fields["phase"].choices = [("", "Any")] + [
            (str(p.pk), p.name) for p in study.phases.all()
        ]
        self.fields["coder"].choices = [("", "Any visible")] + [
            (str(user.pk), user.get_username()) for user in coders
        ]

    def case_filters(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in CASE_FILTERS if data.get(name)}


class SearchForm(forms.Form):
    q = forms.CharField(label="Words or phrase", max_length=200)


class CombinationForm(forms.Form):
    OPERATORS = [
        ("and", "A and B overlapping"),
        ("not", "A not B"),
        ("near_characters", "A near B (within N characters)"),
        ("near_turns", "A near B (within N turns)"),
    ]
    code_a = forms.ChoiceField(label="Code A")
    operator = forms.ChoiceField(choices=OPERATORS)
    code_b = forms.ChoiceField(label="Code B")
    distance = forms.IntegerField(
        min_value=0, required=False, initial=200, label="N", help_text="For 'near' only."
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code_a"].choices = code_choices(study)
        self.fields["code_b"].choices = code_choices(study)


class CodeSetForm(forms.Form):
    codes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = code_choices(study)
        self.study = study

    def clean_codes(self):
        ids = [int(value) for value in self.cleaned_data["codes"]]
        codes = {code.pk: code for code in Code.objects.filter(study=self.study, pk__in=ids)}
        return [codes[i] for i in ids if i in codes]


class MatrixQueryForm(CodeSetForm):
    ROWS = [("cases", "Cases"), ("attribute", "Values of a case attribute")]
    COUNTS = [("segments", "Segments"), ("sources", "Sources"), ("characters", "Characters")]
    rows = forms.ChoiceField(choices=ROWS, initial="cases")
    case_kind = forms.ChoiceField(
        choices=[("", "Any")] + Case.Kind.choices, required=False, label="Kind of case"
    )
    attribute = forms.CharField(required=False, help_text="e.g. role, region, sector")
    count = forms.ChoiceField(choices=COUNTS, initial="segments", label="Count")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("rows") == "attribute" and not cleaned.get("attribute"):
            self.add_error("attribute", "Name the attribute whose values make the rows.")
        return cleaned


class MatrixForm(ErrorMixin, CodeSetForm):
    name = forms.CharField(max_length=200)
    research_question = forms.ChoiceField(required=False, label="Research question")
    case_kind = forms.ChoiceField(choices=Case.Kind.choices, label="Rows are")
    field_order = ["name", "research_question", "case_kind", "codes"]

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, study=study, **kwargs)
        self.fields["codes"].label = "Columns (codes)"
        self.fields["research_question"].choices = [("", "None")] + [
            (str(q.pk), f"{q.code}: {q.short_name}") for q in study.research_questions.all()
        ]

    def clean_research_question(self):
        value = self.cleaned_data["research_question"]
        return self.study.research_questions.filter(pk=value).first() if value else None


class RqMatricesForm(forms.Form):
    case_kind = forms.ChoiceField(choices=Case.Kind.choices, label="Rows are")


class CellForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    segments = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, segment_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = [(str(pk), str(pk)) for pk in segment_choices]


class AgreementForm(forms.Form):
    coders = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    codes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=False, help_text="None ticked: every code."
    )

    def __init__(self, *args, study, coders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coders"].choices = [(str(u.pk), u.get_username()) for u in coders]
        self.fields["codes"].choices = code_choices(study)

    def clean_coders(self):
        value = self.cleaned_data["coders"]
        if len(value) < 2:
            raise forms.ValidationError("Pick two or more coders to compare.")
        return value
