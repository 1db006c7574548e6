"""Case studies: sources and their speaker turns, the codebook and its versions, codings,
memos, cases, redesign initiatives, framework matrices, reliability assignments and
pseudonymisation.

Text is stored once, canonical (UTF-8, NFC, ``\\n`` line endings); a coded segment is
``[start, end)`` in Unicode code points of that text (see ``casework.textoffsets``).
"""

import uuid

from django.conf import settings
from django.db import models


class Source(models.Model):
    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview"
        GROUP_INTERVIEW = "group_interview", "Group interview"
        OBSERVATION = "observation_notes", "Observation notes"
        DOCUMENT = "document", "Document"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="sources")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    text = models.TextField()
    site = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_sources",
    )
    phase = models.ForeignKey(
        "studies.Phase", null=True, blank=True, on_delete=models.SET_NULL, related_name="sources"
    )
    original_name = models.CharField(max_length=255, blank=True)
    original_media_type = models.CharField(max_length=100, blank=True)
    original_bytes = models.BinaryField(null=True, blank=True)
    original_sha256 = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    is_simulated = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "guid"], name="unique_source_guid_per_study")
        ]

    def __str__(self) -> str:
        return self.title


class Turn(models.Model):
    """A speaker's turn in a source: ``[start, end)`` in code points of the source text."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    speaker_label = models.CharField(max_length=100)
    participant = models.ForeignKey(
        "studies.Participant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turns",
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    timestamp = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["source", "index"]
        constraints = [
            models.UniqueConstraint(fields=["source", "index"], name="unique_turn_index"),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="turn_span"
            ),
        ]
        # Finding the turn a segment starts or ends in is a look-up by source and start.
        indexes = [models.Index(fields=["source", "start"], name="turn_source_start")]

    def __str__(self) -> str:
        return f"{self.speaker_label} [{self.start}, {self.end})"


class CodebookVersion(models.Model):
    """A numbered state of a study's codebook; every change to codes records a new one."""

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="codebook_versions"
    )
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300)
    # The codebook as it stood: a list of code records, for comparing versions.
    snapshot = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="unique_codebook_version")
        ]

    def __str__(self) -> str:
        return f"codebook v{self.number}"


class Code(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="codes")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    inclusion = models.TextField(blank=True)
    exclusion = models.TextField(blank=True)
    example = models.TextField(blank=True)
    colour = models.CharField(max_length=7, blank=True)  # "#RRGGBB"
    research_questions = models.ManyToManyField(
        "studies.ResearchQuestion", blank=True, related_name="codes"
    )
    order = models.PositiveIntegerField(default=0)
    # False once merged into another code (kept so history and versions still resolve).
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["study", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "guid"], name="unique_code_guid_per_study"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="code_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Coding(models.Model):
    """One code applied to one segment of a source by one coder."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="codings"
    )
    codebook_version = models.ForeignKey(
        CodebookVersion, on_delete=models.PROTECT, related_name="codings"
    )
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["source", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="coding_span"
            ),
        ]
        indexes = [
            # Covering for the matrix and co-occurrence queries, which group a hundred
            # thousand codings by source and code without reading the table's rows.
            models.Index(
                fields=["code", "source", "start", "end", "coder"], name="coding_code_source_span"
            ),
            models.Index(fields=["source", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} @ {self.source} [{self.start}, {self.end})"


class Initiative(models.Model):
    """A service redesign a commissioning body attempted: a unit of case analysis."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        UNDER_WAY = "under_way", "Under way"
        IMPLEMENTED = "implemented", "Implemented"
        STALLED = "stalled", "Stalled"
        ABANDONED = "abandoned", "Abandoned"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="initiatives")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    lead_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="led_initiatives"
    )
    partner_organisations = models.ManyToManyField(
        "organisations.Organisation", blank=True, related_name="partner_initiatives"
    )
    sectors = models.JSONField(default=list, blank=True)
    leaders = models.ManyToManyField("studies.Participant", blank=True, related_name="initiatives")
    benefits_targeted = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNDER_WAY)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="initiatives")
    codings = models.ManyToManyField(Coding, blank=True, related_name="initiatives")
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """A unit of case analysis (a site, a participant or an initiative) with attributes."""

    class Kind(models.TextChoices):
        SITE = "site", "Site"
        PARTICIPANT = "participant", "Participant"
        INITIATIVE = "initiative", "Initiative"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="cases")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=300)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    participant = models.ForeignKey(
        "studies.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="cases"
    )
    attributes = models.JSONField(default=dict, blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="cases")

    class Meta:
        ordering = ["study", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "kind", "name"], name="unique_case_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Memo(models.Model):
    """A researcher's note on a source, code, coding, case or initiative."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="memos")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    code = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    coding = models.ForeignKey(
        Coding, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "-updated_at"]

    def __str__(self) -> str:
        return self.title or self.text[:60]


class FrameworkMatrix(models.Model):
    """Cases × codes; each cell a researcher's summary linked to the segments it rests on."""

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="framework_matrices"
    )
    name = models.CharField(max_length=200)
    research_question = models.ForeignKey(
        "studies.ResearchQuestion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="framework_matrices",
    )
    case_kind = models.CharField(max_length=20, choices=Case.Kind.choices, default=Case.Kind.SITE)
    codes = models.ManyToManyField(Code, related_name="framework_matrices")
    cases = models.ManyToManyField(Case, related_name="framework_matrices")

    class Meta:
        ordering = ["study", "name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="unique_matrix_name")]

    def __str__(self) -> str:
        return self.name


class FrameworkCell(models.Model):
    matrix = models.ForeignKey(FrameworkMatrix, on_delete=models.CASCADE, related_name="cells")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="framework_cells")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="framework_cells")
    summary = models.TextField(blank=True)
    segments = models.ManyToManyField(Coding, blank=True, related_name="framework_cells")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["matrix", "case", "code"], name="one_cell_per_case_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.matrix}: {self.case} × {self.code}"


class ReliabilityAssignment(models.Model):
    """Sources set aside for an agreement check; in blind mode coders see only their own codings."""

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="reliability_assignments"
    )
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="reliability_assignments"
    )
    coders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="reliability_assignments"
    )
    blind = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "source"], name="one_assignment_per_source")
        ]

    def __str__(self) -> str:
        return f"reliability check on {self.source}"


class Pseudonym(models.Model):
    """The key: a real name or identifier and its study-wide replacement (lead only)."""

    class Kind(models.TextChoices):
        PARTICIPANT = "participant", "Participant"
        ORGANISATION = "organisation", "Organisation"
        PLACE = "place", "Place"
        EMAIL = "email", "E-mail address"
        PHONE = "phone", "Telephone number"
        NHS_NUMBER = "nhs_number", "NHS number"
        POSTCODE = "postcode", "Postcode"
        OTHER = "other", "Other identifier"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="pseudonyms")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    original = models.CharField(max_length=300)
    replacement = models.CharField(max_length=120)
    participant = models.ForeignKey(
        "studies.Participant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        ordering = ["study", "kind", "replacement"]
        constraints = [
            models.UniqueConstraint(fields=["study", "original"], name="one_pseudonym_per_original")
        ]

    def __str__(self) -> str:
        return self.replacement


class PseudonymCandidate(models.Model):
    """A span that may identify someone, awaiting a researcher's decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="pseudonym_candidates"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Pseudonym.Kind.choices)
    pseudonym = models.ForeignKey(
        Pseudonym, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "start", "end"], name="one_candidate_per_span"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="candidate_span"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} candidate in {self.source} [{self.start}, {self.end})"
