"""Authoring pages for integration work: writing and editing draft propositions, and
building joint displays (the display, its rows, each cell's text and evidence).

Only the study's lead and researchers open these pages; every change goes through
``actions``, and an action's refusal is shown beside the field it names, with nothing
stored (status 400). The reading pages and the lock and test buttons stay in ``views``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from triangulum.analysis.tidy import ROLE_GROUP_LABELS, catalogue_from_form
from triangulum.studies.models import ResearchQuestion
from triangulum.studies.permissions import study_view

from . import actions, queries
from .models import (
    CASE_STUDY_STRANDS,
    Evidence,
    Finding,
    JointDisplay,
    JointDisplayRow,
    Proposition,
    Theme,
)
from .views import (
    ACTION_ERRORS,
    WRITE_ROLES,
    EvidenceForm,
    _error_text,
    _get_display,
    _render,
    evidence_target,
)

# The pseudo-item the analysis derives from ``role`` (tidy.role_group), usable to define
# the two groups of a difference test although no questionnaire asks it.
ROLE_GROUP = "role_group"
# URL segments under displays/ that are pages, not a display's slug.
RESERVED_DISPLAY_SLUGS = frozenset({"new"})


# The action's name for an input, where the form's field has another name.
FIELD_OF_INPUT = {"items": "extra_items"}


def _apply_error(form: forms.Form, error: Exception) -> None:
    """Show an action's refusal beside the field it names (or above the form)."""
    field = getattr(error, "field", None)
    field = FIELD_OF_INPUT.get(field, field)
    form.add_error(field if field in form.fields else None, _error_text(error))


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# --- propositions -------------------------------------------------------------------------


class AnyChoices(forms.MultipleChoiceField):
    """Checkboxes of an item's answers; which answers are valid is the action's to say
    (it names the item and lists its answers), so a stale list is never a silent error."""

    def valid_value(self, value) -> bool:
        return True


def _wave_catalogue(wave) -> dict:
    # The same catalogue the actions check propositions against (actions._wave_items).
    if wave is None:
        return {}
    return catalogue_from_form(wave.instrument_version.form_json or {})


def _testable(info) -> bool:
    """Items some test can use: a single choice (a share, or a scored mean) or a number."""
    return info.is_single_choice or info.type in ("integer", "decimal")


def _answers(catalogue: dict, name: str) -> list[tuple[str, str]]:
    if name == ROLE_GROUP:
        return list(ROLE_GROUP_LABELS.items())
    info = catalogue.get(name)
    return [(value, f"{label} ({value})") for value, label in info.choices] if info else []


class PropositionForm(forms.Form):
    finding = forms.ModelChoiceField(
        queryset=Finding.objects.none(),
        required=False,
        label="Case-study finding it restates",
        empty_label="No finding",
    )
    research_question = forms.ModelChoiceField(queryset=ResearchQuestion.objects.none())
    wave = forms.ModelChoiceField(
        queryset=None, label="Survey wave that tests it", empty_label="Choose a wave"
    )
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A claim about CCGs in general, e.g. “Most CCGs' members report …”.",
    )
    test = forms.ChoiceField(choices=Proposition.Test.choices)
    direction = forms.ChoiceField(choices=Proposition.Direction.choices)
    item = forms.CharField(
        required=False,
        label="Item",
        help_text="The questionnaire item of the testing wave whose answers are tested.",
    )
    categories = AnyChoices(
        required=False,
        label="Answers counted (proportion and difference)",
        widget=forms.CheckboxSelectMultiple,
        help_text="The share is of members giving one of these answers.",
    )
    denominator = forms.ChoiceField(
        label="Out of (proportion and difference)",
        choices=[
            ("substantive", "Substantive answers (“don't know” and “not applicable” left out)"),
            ("asked", "Everyone asked (“don't know” kept in)"),
        ],
        initial="substantive",
        widget=forms.RadioSelect,
    )
    threshold = forms.FloatField(
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
        help_text=(
            "A share between 0 and 1 (0.5 is one half); a mean on the item's scale; for a "
            "difference of shares, between -1 and 1 (0 if left empty)."
        ),
    )
    margin = forms.FloatField(
        required=False,
        label="Smallest effect worth the name (margin, optional)",
        widget=forms.NumberInput(attrs={"step": "any"}),
        help_text=(
            "Left empty: 0.05 for a share or a difference, a fifth of a standard deviation "
            "for a mean."
        ),
    )
    group_item = forms.CharField(
        required=False,
        label="Groups defined by (difference only)",
    )
    group_a = AnyChoices(
        required=False, label="Group A (difference only)", widget=forms.CheckboxSelectMultiple
    )
    group_b = AnyChoices(
        required=False, label="Group B (difference only)", widget=forms.CheckboxSelectMultiple
    )
    extra_items = forms.CharField(
        required=False,
        label="Further items linked (optional)",
        help_text=(
            "The items the test uses are always linked; name any others, separated by commas."
        ),
    )
    support_rule = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What would count as support (stated in advance)",
    )

    SECTIONS = (
        ("The proposition", ("finding", "research_question", "wave", "statement")),
        ("The test", ("test", "direction", "item", "categories", "denominator")),
        ("Threshold", ("threshold", "margin")),
        ("Two groups (a difference in proportions only)", ("group_item", "group_a", "group_b")),
        ("Stated in advance", ("extra_items", "support_rule")),
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["finding"].queryset = (
            Finding.objects.filter(study=study, strand__in=CASE_STUDY_STRANDS)
            .select_related("research_question")
            .order_by("research_question__number", "strand", "id")
        )
        self.fields["finding"].label_from_instance = lambda finding: (
            f"{finding.research_question.code}, {finding.get_strand_display().lower()}: "
            f"{finding.statement[:120]}"
        )
        self.fields["research_question"].queryset = study.research_questions.order_by("number")
        self.fields["research_question"].label_from_instance = lambda rq: str(rq)
        self.fields["wave"].queryset = study.waves.select_related("instrument_version")
        self.wave = self._chosen_wave()
        catalogue = _wave_catalogue(self.wave)
        self.catalogue = catalogue
        testable = [(name, f"{name}: {info.label[:90]}") for name, info in catalogue.items()]
        self.fields["item"].widget = forms.Select(
            choices=[("", "Choose an item")]
            + [choice for choice in testable if _testable(catalogue[choice[0]])]
        )
        self.fields["group_item"].widget = forms.Select(
            choices=[("", "No groups"), (ROLE_GROUP, f"{ROLE_GROUP}: role on the governing body")]
            + [choice for choice in testable if catalogue[choice[0]].is_single_choice]
        )
        item, group_item = self._value("item"), self._value("group_item")
        # A name given that the list does not offer (another wave's item, say) stays
        # chosen, so the message beside it is about what the user sees.
        for name, value in (("item", item), ("group_item", group_item)):
            widget = self.fields[name].widget
            if value and value not in {choice for choice, _ in widget.choices}:
                widget.choices = [*widget.choices, (value, f"{value} (not offered here)")]
        self.fields["categories"].choices = _answers(catalogue, item)
        for name in ("group_a", "group_b"):
            self.fields[name].choices = _answers(catalogue, group_item)
        if not item:
            self.fields["categories"].help_text = "Choose the item first; its answers show here."
        if not group_item:
            for name in ("group_a", "group_b"):
                self.fields[name].help_text = "Choose the item that defines the groups first."

    def _value(self, name: str):
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "")
        value = self.initial.get(name, self.fields[name].initial)
        return getattr(value, "pk", value) or ""

    def _chosen_wave(self):
        waves = self.fields["wave"].queryset
        chosen = str(self._value("wave"))
        if chosen.isdigit():
            return waves.filter(pk=int(chosen)).first()
        return None

    def sections(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.SECTIONS]

    def action_values(self) -> dict:
        """The keyword arguments of ``create_proposition`` / ``update_proposition``."""
        data = self.cleaned_data
        test = data["test"]
        parameters = {"item": data["item"]}
        if test != "mean":
            parameters["categories"] = list(data["categories"])
            parameters["denominator"] = data["denominator"] or "substantive"
        if data["threshold"] is not None:
            parameters["threshold"] = data["threshold"]
        if data["margin"] is not None:
            parameters["margin"] = data["margin"]
        used = [data["item"]] if data["item"] else []
        if test == "difference":
            parameters["group_item"] = data["group_item"]
            parameters["group_a"] = list(data["group_a"])
            parameters["group_b"] = list(data["group_b"])
            if data["group_item"]:
                used.append(data["group_item"])
        extra = [name for name in _split(data["extra_items"]) if name not in used]
        return {
            "finding": data["finding"],
            "research_question": data["research_question"],
            "wave": data["wave"],
            "statement": data["statement"],
            "test": test,
            "direction": data["direction"],
            "parameters": parameters,
            # None: the action derives the items from the test.
            "items": [*used, *extra] if extra else None,
            "support_rule": data["support_rule"],
        }


def _initial_from_post(form_class, post) -> dict:
    """A form's values as posted, as initial values (a refresh shows them without errors)."""
    initial = {}
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = post.getlist(name)
        elif name in post:
            initial[name] = post.get(name)
    return initial


def _initial_from_proposition(proposition: Proposition) -> dict:
    parameters = proposition.parameters or {}

    def listed(name):
        value = parameters.get(name) or []
        return [value] if isinstance(value, str) else [str(v) for v in value]

    used = [parameters.get("item"), parameters.get("group_item")]
    return {
        "finding": proposition.finding_id,
        "research_question": proposition.research_question_id,
        "wave": proposition.wave_id,
        "statement": proposition.statement,
        "test": proposition.test,
        "direction": proposition.direction,
        "item": parameters.get("item", ""),
        "categories": listed("categories"),
        "denominator": parameters.get("denominator", "substantive"),
        "threshold": parameters.get("threshold"),
        "margin": parameters.get("margin"),
        "group_item": parameters.get("group_item", ""),
        "group_a": listed("group_a"),
        "group_b": listed("group_b"),
        "extra_items": ", ".join(name for name in proposition.items if name not in used),
        "support_rule": proposition.support_rule,
    }


def _proposition_page(request, form, *, proposition=None, refusal="", status=200):
    return _render(
        request,
        "integration/proposition_form.html",
        {
            "form": form,
            "proposition": proposition,
            "refusal": refusal,
            "has_waves": request.study.waves.exists(),
        },
        status=status,
    )


def _refreshed(request, *, proposition=None):
    """The form again with the posted values and the chosen wave's and item's answers,
    nothing stored (the no-script button, and the htmx refresh on a change of choice)."""
    form = PropositionForm(
        initial=_initial_from_post(PropositionForm, request.POST), study=request.study
    )
    return _proposition_page(request, form, proposition=proposition)


@study_view(*WRITE_ROLES)
def new_proposition(request, slug):
    study = request.study
    if request.method == "POST":
        if request.POST.get("intent") == "refresh":
            return _refreshed(request)
        form = PropositionForm(request.POST, study=study)
        if form.is_valid():
            try:
                proposition = actions.create_proposition(
                    study=study, actor=request.user, **form.action_values()
                )
            except ACTION_ERRORS as error:
                _apply_error(form, error)
            else:
                messages.success(
                    request,
                    "Wrote the draft proposition. Lock it before its wave's data is "
                    "analysed for it.",
                )
                return redirect(
                    "integration:proposition", slug=study.slug, proposition_id=proposition.pk
                )
        return _proposition_page(request, form, status=400)
    initial = {"wave": study.waves.order_by("-number").values_list("pk", flat=True).first()}
    restated = request.GET.get("finding", "")
    if restated:
        # "Restate as a proposition" from a case-study finding's page.
        finding = get_object_or_404(
            Finding,
            pk=int(restated) if restated.isdigit() else None,
            study=study,
            strand__in=CASE_STUDY_STRANDS,
        )
        initial.update(
            finding=finding.pk,
            research_question=finding.research_question_id,
            statement=finding.statement,
        )
    return _proposition_page(request, PropositionForm(initial=initial, study=study))


@study_view(*WRITE_ROLES)
def edit_proposition(request, slug, proposition_id):
    study = request.study
    proposition = get_object_or_404(
        Proposition.objects.select_related("wave", "research_question"),
        pk=proposition_id,
        study=study,
    )
    if request.method == "POST":
        if proposition.locked_at is not None:
            # Refused by the action, whatever was posted: the lock is final.
            try:
                actions.update_proposition(proposition=proposition, actor=request.user)
            except ACTION_ERRORS as error:
                return _proposition_page(
                    request, None, proposition=proposition, refusal=_error_text(error), status=400
                )
        if request.POST.get("intent") == "refresh":
            return _refreshed(request, proposition=proposition)
        form = PropositionForm(request.POST, study=study)
        if form.is_valid():
            try:
                actions.update_proposition(
                    proposition=proposition, actor=request.user, **form.action_values()
                )
            except ACTION_ERRORS as error:
                _apply_error(form, error)
            else:
                messages.success(request, "Saved the draft proposition.")
                return redirect(
                    "integration:proposition", slug=study.slug, proposition_id=proposition.pk
                )
        proposition.refresh_from_db()
        return _proposition_page(request, form, proposition=proposition, status=400)
    form = None
    if proposition.locked_at is None:
        form = PropositionForm(initial=_initial_from_proposition(proposition), study=study)
    return _proposition_page(request, form, proposition=proposition)


@study_view(*WRITE_ROLES)
@require_POST
def delete_proposition(request, slug, proposition_id):
    proposition = get_object_or_404(Proposition, pk=proposition_id, study=request.study)
    try:
        actions.delete_proposition(proposition=proposition, actor=request.user)
    except ACTION_ERRORS as error:
        messages.error(request, _error_text(error))
        return redirect("integration:proposition", slug=slug, proposition_id=proposition_id)
    messages.success(request, f"Deleted the draft proposition {proposition_id}.")
    return redirect("integration:propositions", slug=slug)


# --- joint displays -----------------------------------------------------------------------


def parse_columns(text: str) -> list[dict]:
    """Columns written one per line as "key | label", or a label alone (its key is made
    from it); the action checks the keys."""
    columns = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        key, bar, label = line.partition("|")
        key, label = key.strip(), label.strip()
        if not bar:
            key, label = slugify(key).replace("-", "_"), key
        columns.append({"key": key, "label": label or key})
    return columns


class DisplayForm(forms.Form):
    kind = forms.ChoiceField(choices=JointDisplay.Kind.choices)
    title = forms.CharField(max_length=300)
    research_question = forms.ModelChoiceField(
        queryset=ResearchQuestion.objects.none(),
        required=False,
        empty_label="All research questions",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    columns = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "One column per line, as “key | label”, e.g. “survey | Survey, wave 2”; a line "
            "with a label alone gets a key made from it. Keys are short: letters, digits, "
            "underscores."
        ),
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["research_question"].queryset = study.research_questions.order_by("number")
        self.fields["research_question"].label_from_instance = lambda rq: str(rq)


@study_view(*WRITE_ROLES)
def new_display(request, slug):
    study = request.study
    form = DisplayForm(
        initial={"columns": "survey | Survey statistics\ncases | Case-study themes"}, study=study
    )
    if request.method == "POST":
        form = DisplayForm(request.POST, study=study)
        if form.is_valid():
            data = form.cleaned_data
            # A display may not take the slug of a page under displays/.
            slug_wanted = slugify(data["title"])[:80]
            try:
                display = actions.create_joint_display(
                    study=study,
                    kind=data["kind"],
                    title=data["title"],
                    research_question=data["research_question"],
                    description=data["description"],
                    columns=parse_columns(data["columns"]),
                    slug=f"{slug_wanted}-display" if slug_wanted in RESERVED_DISPLAY_SLUGS else "",
                    actor=request.user,
                )
            except ACTION_ERRORS as error:
                _apply_error(form, error)
            else:
                messages.success(request, f"Created “{display.title}”: now add its rows.")
                return redirect(
                    "integration:new_display_row", slug=study.slug, display_slug=display.slug
                )
    return _render(
        request,
        "integration/display_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


class RowForm(forms.Form):
    label = forms.CharField(max_length=300, help_text="What the row is about, e.g. a theme.")
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.none(), required=False, empty_label="No theme"
    )
    research_question = forms.ModelChoiceField(
        queryset=ResearchQuestion.objects.none(), required=False, empty_label="None"
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.filter(study=study)
        self.fields["research_question"].queryset = study.research_questions.order_by("number")
        self.fields["research_question"].label_from_instance = lambda rq: str(rq)


@study_view(*WRITE_ROLES)
def new_display_row(request, slug, display_slug):
    study = request.study
    display = _get_display(request, display_slug)
    form = RowForm(initial={"research_question": display.research_question_id}, study=study)
    if request.method == "POST":
        form = RowForm(request.POST, study=study)
        if form.is_valid():
            try:
                row = actions.add_display_row(
                    display=display, actor=request.user, **form.cleaned_data
                )
            except ACTION_ERRORS as error:
                _apply_error(form, error)
            else:
                messages.success(request, f"Added the row “{row.label}”: now write its cells.")
                return redirect(
                    "integration:display_row", slug=slug, display_slug=display.slug, row_id=row.pk
                )
    return _render(
        request,
        "integration/display_row_form.html",
        {"display": display, "form": form},
        status=400 if form.errors else 200,
    )


class CellsForm(forms.Form):
    """One textarea per column of the display, named by the column's key."""

    def __init__(self, *args, columns, **kwargs):
        super().__init__(*args, **kwargs)
        for column in columns:
            self.fields[column["key"]] = forms.CharField(
                label=column["label"],
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )


def _row_columns(display: JointDisplay, cells) -> list[dict]:
    """The display's columns, then any column a stored cell names that the display no
    longer lists (as the display page shows them)."""
    columns = queries.display_columns(display)
    known = {column["key"] for column in columns}
    for cell in cells:
        if cell.column not in known:
            columns.append({"key": cell.column, "label": cell.column})
            known.add(cell.column)
    return columns


@study_view(*WRITE_ROLES)
def display_row(request, slug, display_slug, row_id):
    study = request.study
    display = _get_display(request, display_slug)
    row = get_object_or_404(JointDisplayRow, pk=row_id, display=display)
    cells = {
        cell.column: cell
        for cell in row.cells.prefetch_related(
            # The evidence with every target it names (evidence_links reads them).
            Prefetch("evidence", queryset=queries.evidence_queryset())
        )
    }
    columns = _row_columns(display, cells.values())
    cells_form = CellsForm(
        initial={key: cell.text for key, cell in cells.items()}, columns=columns, prefix="cell"
    )
    evidence_forms = {c["key"]: EvidenceForm(prefix=f"evidence-{c['key']}") for c in columns}
    here = request.path
    if request.method == "POST":
        intent = request.POST.get("intent")
        try:
            if intent == "cells":
                cells_form = CellsForm(request.POST, columns=columns, prefix="cell")
                if cells_form.is_valid():
                    changed = 0
                    # All the cells or none; a cell whose text is unchanged is not written
                    # again, so the audit trail records real changes only.
                    with transaction.atomic():
                        for column in columns:
                            text = cells_form.cleaned_data[column["key"]].strip()
                            stored = cells.get(column["key"])
                            if (stored.text if stored else "") == text:
                                continue
                            actions.set_display_cell(
                                row=row, column=column["key"], text=text, actor=request.user
                            )
                            changed += 1
                    messages.success(request, f"Saved {changed} cell{'s' if changed != 1 else ''}.")
                    return redirect(here)
            elif intent == "add_evidence":
                key = request.POST.get("column", "")
                if key not in evidence_forms:
                    return HttpResponse("Unknown column.", status=400)
                form = evidence_forms[key] = EvidenceForm(request.POST, prefix=f"evidence-{key}")
                if form.is_valid():
                    try:
                        target = evidence_target(study, form.cleaned_data["address"])
                    except ValueError as error:
                        form.add_error("address", str(error))
                    else:
                        with transaction.atomic():
                            cell = cells.get(key) or actions.set_display_cell(
                                row=row, column=key, text="", actor=request.user
                            )
                            actions.add_evidence(
                                cell=cell,
                                label=form.cleaned_data["label"],
                                actor=request.user,
                                **target,
                            )
                        messages.success(request, "Added the evidence.")
                        return redirect(f"{here}#evidence-{key}")
            elif intent == "remove_evidence":
                evidence = get_object_or_404(
                    Evidence, pk=request.POST.get("evidence"), cell__row=row
                )
                actions.remove_evidence(evidence=evidence, actor=request.user)
                messages.success(request, "Removed the evidence.")
                return redirect(here)
            else:
                return HttpResponse("Unknown request.", status=400)
        except ACTION_ERRORS as error:
            if intent == "add_evidence":
                _apply_error(evidence_forms[key], error)
            else:
                messages.error(request, _error_text(error))
                return redirect(here)
    all_evidence = [e for cell in cells.values() for e in cell.evidence.all()]
    links = {
        link.evidence.pk: link
        for link in queries.evidence_links(all_evidence, study.slug, request.membership.role)
    }
    sections = [
        {
            "column": column,
            "form": evidence_forms[column["key"]],
            "evidence": [
                links[e.pk]
                for e in (cells[column["key"]].evidence.all() if column["key"] in cells else ())
            ],
        }
        for column in columns
    ]
    failed = cells_form.errors or any(form.errors for form in evidence_forms.values())
    return _render(
        request,
        "integration/display_row.html",
        {"display": display, "row": row, "cells_form": cells_form, "sections": sections},
        status=400 if failed else 200,
    )
