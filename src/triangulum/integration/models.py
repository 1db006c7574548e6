"""Triangulation: findings per strand, the convergence coding matrix, propositions tested by
the second survey, joint displays and QCA runs — each statement tied to its evidence.

Evidence rows point at survey evidence (an analysis result, optionally one cell of it, or a
questionnaire item of a wave) or at case-study evidence (a coded segment, a framework-matrix
cell, a source), so a link can be followed from any integrated statement back to the data.
"""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Strand(models.TextChoices):
    """The four strands of the seed's design, in the order they run."""

    PILOT = "pilot", "Pilot case studies"
    WAVE1 = "wave1", "Survey wave 1"
    INDEPTH = "indepth", "In-depth case studies"
    WAVE2 = "wave2", "Survey wave 2"


SURVEY_STRANDS = frozenset({Strand.WAVE1, Strand.WAVE2})
CASE_STUDY_STRANDS = frozenset({Strand.PILOT, Strand.INDEPTH})


class ConvergenceCode(models.TextChoices):
    """Farmer et al. (2006): how two strands' findings on one theme relate."""

    AGREEMENT = "agreement", "Agreement"
    PARTIAL = "partial", "Partial agreement"
    SILENCE = "silence", "Silence"
    DISSONANCE = "dissonance", "Dissonance"


class Theme(models.Model):
    """A triangulation theme: a row of the convergence matrix, under one research question."""

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="integration_themes"
    )
    research_question = models.ForeignKey(
        "studies.ResearchQuestion", on_delete=models.PROTECT, related_name="integration_themes"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The casework code this theme follows, when it mirrors one (for quantitizing and displays).
    code = models.ForeignKey(
        "casework.Code",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integration_themes",
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "research_question__number", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="unique_theme_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Finding(models.Model):
    """A finding written for one strand and one research question, citing its evidence."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="findings")
    strand = models.CharField(max_length=20, choices=Strand.choices)
    research_question = models.ForeignKey(
        "studies.ResearchQuestion", on_delete=models.PROTECT, related_name="findings"
    )
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    statement = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "research_question__number", "strand", "id"]
        indexes = [models.Index(fields=["study", "strand", "research_question"])]

    def __str__(self) -> str:
        return self.statement[:80]


class StrandPairCode(models.Model):
    """One researcher's convergence code for a theme and an (ordered) pair of strands."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="pair_codes")
    strand_a = models.CharField(max_length=20, choices=Strand.choices)
    strand_b = models.CharField(max_length=20, choices=Strand.choices)
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="convergence_codes"
    )
    code = models.CharField(max_length=20, choices=ConvergenceCode.choices)
    rationale = models.TextField()
    coded_at = models.DateTimeField(auto_now=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["theme", "strand_a", "strand_b", "coder"]
        constraints = [
            models.UniqueConstraint(
                fields=["theme", "strand_a", "strand_b", "coder"], name="one_code_per_coder_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(strand_a__lt=models.F("strand_b")),
                name="strand_pair_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.theme}: {self.strand_a}/{self.strand_b} = {self.code}"


class SettledPairCode(models.Model):
    """The code the team settled on for a theme and a pair of strands, after comparing coders."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="settled_codes")
    strand_a = models.CharField(max_length=20, choices=Strand.choices)
    strand_b = models.CharField(max_length=20, choices=Strand.choices)
    code = models.CharField(max_length=20, choices=ConvergenceCode.choices)
    rationale = models.TextField()
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    settled_at = models.DateTimeField(auto_now=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["theme", "strand_a", "strand_b"]
        constraints = [
            models.UniqueConstraint(
                fields=["theme", "strand_a", "strand_b"], name="one_settled_code_per_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(strand_a__lt=models.F("strand_b")),
                name="settled_pair_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.theme}: {self.strand_a}/{self.strand_b} settled as {self.code}"


class GlobalAssessment(models.Model):
    """The team's overall assessment of convergence for one research question."""

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="global_assessments"
    )
    research_question = models.ForeignKey(
        "studies.ResearchQuestion", on_delete=models.PROTECT, related_name="global_assessments"
    )
    assessment = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_at = models.DateTimeField(auto_now=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "research_question"], name="one_assessment_per_rq"
            )
        ]

    def __str__(self) -> str:
        return f"Global assessment for {self.research_question}"


class Proposition(models.Model):
    """A case-study finding restated as a testable claim about all CCGs, tested by wave 2.

    Everything that defines the test is fixed when the proposition is locked (``locked_at``);
    from then on only the verdict fields may be written, and only by the test action.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LOCKED = "locked", "Locked"
        TESTED = "tested", "Tested"

    class Direction(models.TextChoices):
        GREATER = "greater", "Greater than the threshold / the comparison group"
        LESS = "less", "Less than the threshold / the comparison group"

    class Test(models.TextChoices):
        # Share of CCGs (design-weighted) whose answer falls in the named categories,
        # compared with a threshold.
        PROPORTION = "proportion", "Proportion against a threshold"
        # Weighted mean of a numeric (or Likert-scored) item, compared with a threshold.
        MEAN = "mean", "Mean against a threshold"
        # Difference in proportions between two groups defined by another item.
        DIFFERENCE = "difference", "Difference in proportions between two groups"

    class Verdict(models.TextChoices):
        SUPPORTED = "supported", "Supported"
        NOT_SUPPORTED = "not_supported", "Not supported"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    # Fields frozen by the lock (the test as stated in advance).
    LOCKED_FIELDS = (
        "study_id",
        "finding_id",
        "research_question_id",
        "wave_id",
        "statement",
        "items",
        "test",
        "direction",
        "parameters",
        "support_rule",
    )

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="propositions"
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="propositions"
    )
    research_question = models.ForeignKey(
        "studies.ResearchQuestion", on_delete=models.PROTECT, related_name="propositions"
    )
    wave = models.ForeignKey(
        "fieldwork.Wave", on_delete=models.PROTECT, related_name="propositions"
    )
    statement = models.TextField()
    # Names of the wave-2 questionnaire items the test uses.
    items = models.JSONField(default=list)
    test = models.CharField(max_length=20, choices=Test.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    # Test parameters, e.g. {"item": "x", "categories": ["a"], "threshold": 0.5} or
    # {"item": "x", "categories": [...], "group_item": "y", "group_a": [...], "group_b": [...]}.
    parameters = models.JSONField(default=dict)
    # What counts as support, stated in advance in words (the rule applied is in ADR/queries).
    support_rule = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SHA-256 of the locked fields, recorded in the lock's audit event too.
    lock_hash = models.CharField(max_length=64, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    effect = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    n_cases = models.PositiveIntegerField(null=True, blank=True)
    # The computation: estimates, design, the wave-2 inputs hash, what was used.
    test_details = models.JSONField(default=dict, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "research_question__number", "id"]

    def __str__(self) -> str:
        return self.statement[:80]

    def save(self, *args, **kwargs):
        # The lock is enforced here as well as in the actions, so no code path (admin,
        # shell, a later feature) can change a proposition's test after it was locked.
        if self.pk is not None:
            stored = Proposition.objects.filter(pk=self.pk).first()
            if stored is not None and stored.locked_at is not None:
                if stored.locked_content() != self.locked_content():
                    raise ValidationError(
                        f"Proposition {self.pk} was locked at {stored.locked_at:%Y-%m-%d %H:%M} "
                        "and its statement, items and test can no longer be changed."
                    )
                if self.locked_at != stored.locked_at or self.lock_hash != stored.lock_hash:
                    raise ValidationError(f"Proposition {self.pk} is locked; the lock is final.")
        super().save(*args, **kwargs)

    def locked_content(self) -> dict:
        return {name: getattr(self, name) for name in self.LOCKED_FIELDS}

    def content_hash(self) -> str:
        text = json.dumps(self.locked_content(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class JointDisplay(models.Model):
    """A table that sets quantitative and qualitative evidence side by side, row by row."""

    class Kind(models.TextChoices):
        STATISTICS_BY_THEMES = "statistics_by_themes", "Statistics by themes"
        SIDE_BY_SIDE = "side_by_side", "Side-by-side by research question"
        TYPOLOGY_BY_THEMES = "typology_by_themes", "Typology class by themes"

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="joint_displays"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=80)
    research_question = models.ForeignKey(
        "studies.ResearchQuestion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="joint_displays",
    )
    # Column keys and labels in order: [{"key": "survey", "label": "Survey, wave 1"}, ...].
    columns = models.JSONField(default=list)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "kind", "title"]
        constraints = [
            models.UniqueConstraint(fields=["study", "slug"], name="unique_joint_display_slug")
        ]

    def __str__(self) -> str:
        return self.title


class JointDisplayRow(models.Model):
    display = models.ForeignKey(JointDisplay, on_delete=models.CASCADE, related_name="rows")
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=300)
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="display_rows"
    )
    research_question = models.ForeignKey(
        "studies.ResearchQuestion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="display_rows",
    )
    # The meta-inference: what the row's evidence, taken together, says.
    meta_inference = models.TextField(blank=True)
    meta_inference_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    meta_inference_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["display", "order", "id"]

    def __str__(self) -> str:
        return self.label


class JointDisplayCell(models.Model):
    row = models.ForeignKey(JointDisplayRow, on_delete=models.CASCADE, related_name="cells")
    column = models.CharField(max_length=60)  # a key of the display's columns
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["row", "id"]
        constraints = [
            models.UniqueConstraint(fields=["row", "column"], name="one_cell_per_row_column")
        ]

    def __str__(self) -> str:
        return f"{self.row}: {self.column}"


class Evidence(models.Model):
    """One piece of evidence cited by a finding, a proposition or a joint-display cell.

    Exactly one owner and exactly one target. Survey targets: an analysis result (``locator``
    names the row/column of a table cell) or a wave's questionnaire item. Case-study targets:
    a coded segment, a framework-matrix cell or a source.
    """

    class Kind(models.TextChoices):
        ANALYSIS_RESULT = "analysis_result", "Survey analysis result"
        SURVEY_ITEM = "survey_item", "Survey item"
        SEGMENT = "segment", "Coded segment"
        MATRIX_CELL = "matrix_cell", "Framework matrix cell"
        SOURCE = "source", "Case-study source"
        PROPOSITION = "proposition", "Proposition tested by wave 2"

    SURVEY_KINDS = frozenset({Kind.ANALYSIS_RESULT, Kind.SURVEY_ITEM, Kind.PROPOSITION})
    CASE_STUDY_KINDS = frozenset({Kind.SEGMENT, Kind.MATRIX_CELL, Kind.SOURCE})

    # Owners (one of).
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    proposition = models.ForeignKey(
        Proposition,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    cell = models.ForeignKey(
        JointDisplayCell, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    # Target (by kind).
    kind = models.CharField(max_length=20, choices=Kind.choices)
    analysis_result = models.ForeignKey(
        "analysis.AnalysisResult",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    wave = models.ForeignKey(
        "fieldwork.Wave", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item = models.CharField(max_length=120, blank=True)  # questionnaire item name
    coding = models.ForeignKey(
        "casework.Coding", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    framework_cell = models.ForeignKey(
        "casework.FrameworkCell",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.ForeignKey(
        "casework.Source", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cited_proposition = models.ForeignKey(
        Proposition, null=True, blank=True, on_delete=models.PROTECT, related_name="cited_by"
    )
    # Within the target: e.g. {"row": {"item": "q3", "category": "agree"}, "column": "share"}.
    locator = models.JSONField(default=dict, blank=True)
    label = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(finding__isnull=False, proposition__isnull=True, cell__isnull=True)
                    | models.Q(finding__isnull=True, proposition__isnull=False, cell__isnull=True)
                    | models.Q(finding__isnull=True, proposition__isnull=True, cell__isnull=False)
                ),
                name="evidence_has_one_owner",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="analysis_result", analysis_result__isnull=False)
                    | models.Q(kind="survey_item", wave__isnull=False)
                    | models.Q(kind="segment", coding__isnull=False)
                    | models.Q(kind="matrix_cell", framework_cell__isnull=False)
                    | models.Q(kind="source", source__isnull=False)
                    | models.Q(kind="proposition", cited_proposition__isnull=False)
                ),
                name="evidence_target_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.get_kind_display()} {self.pk}"

    @property
    def is_survey(self) -> bool:
        return self.kind in self.SURVEY_KINDS

    @property
    def is_case_study(self) -> bool:
        return self.kind in self.CASE_STUDY_KINDS


class QcaRun(models.Model):
    """A qualitative comparative analysis of sites (or initiatives), stored with its inputs."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="qca_runs")
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, default="site")  # site | initiative
    set_type = models.CharField(max_length=10, default="crisp")  # crisp | fuzzy
    outcome = models.CharField(max_length=80)
    conditions = models.JSONField(default=list)
    # The calibrated membership table: [{"case": ..., "<condition>": 0.67, ...}, ...].
    memberships = models.JSONField(default=list)
    # How each set was calibrated from the raw data (source variable, anchors, method).
    calibration = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)  # incl_cut, n_cut, remainders
    results = models.JSONField(default=dict)  # truth table, necessity, solutions
    inputs_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
