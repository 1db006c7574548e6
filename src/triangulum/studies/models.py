"""Studies, their research questions and phases, the team, and the participant register.

Personal details (real names, contact details) live in ``ParticipantContact``, a table
apart from research data, shown only to the roles that need them.
"""

from django.conf import settings
from django.db import models


class Study(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=300)
    short_title = models.CharField(max_length=120, blank=True)
    funder = models.CharField(max_length=200, blank=True)
    funding_amount = models.CharField(max_length=60, blank=True)
    host = models.CharField(max_length=200, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    aim = models.TextField(blank=True)
    secondary_focus = models.TextField(blank=True)
    # Lists of {"name": …, "description": …}: the people whose views are sought, and the
    # care sectors in scope. Kept as data because they vary by study.
    stakeholder_groups = models.JSONField(default=list, blank=True)
    care_sectors = models.JSONField(default=list, blank=True)
    is_builtin = models.BooleanField(default=False)
    # True where the study's records are simulated (the demo): every page says so.
    is_simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.short_title or self.title


class ResearchQuestion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="research_questions")
    number = models.PositiveSmallIntegerField()
    short_name = models.CharField(max_length=80)
    text = models.TextField()

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="unique_rq_number_per_study")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.short_name}"

    @property
    def code(self) -> str:
        return f"RQ{self.number}"


class Phase(models.Model):
    class Kind(models.TextChoices):
        PILOT_CASE_STUDIES = "pilot_case_studies", "Pilot case studies"
        NATIONAL_SURVEY_WAVE = "national_survey_wave", "National survey wave"
        IN_DEPTH_CASE_STUDIES = "in_depth_case_studies", "In-depth case studies"
        GENERALISATION_SURVEY_WAVE = "generalisation_survey_wave", "Generalisation survey wave"
        INTEGRATION = "integration", "Integration"
        DISSEMINATION = "dissemination", "Dissemination"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=40, choices=Kind.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    produces = models.TextField(blank=True, help_text="What the phase produces.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    # The dates the protocol plans, and the dates the phase actually started and ended:
    # a study is judged against its plan, and reinstalling a protocol must not erase
    # what happened.
    planned_start_date = models.DateField(null=True, blank=True)
    planned_end_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    research_questions = models.ManyToManyField(ResearchQuestion, blank=True, related_name="phases")

    class Meta:
        ordering = ["study", "order"]
        constraints = [
            models.UniqueConstraint(fields=["study", "order"], name="unique_phase_order_per_study"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="phase_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_end_date__isnull=True)
                | models.Q(planned_start_date__isnull=True)
                | models.Q(planned_end_date__gte=models.F("planned_start_date")),
                name="phase_planned_to_end_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    RESEARCHER = "researcher", "Researcher"
    INTERVIEWER = "interviewer", "Interviewer"
    CODER = "coder", "Coder"
    VIEWER = "viewer", "Viewer"


class StudyMembership(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="one_membership_per_user_study")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.study}"


class RoleCategory(models.TextChoices):
    GP_MEMBER = "gp_member", "GP governing-body member"
    CHAIR = "chair", "Chair"
    ACCOUNTABLE_OFFICER = "accountable_officer", "Accountable officer"
    CHIEF_FINANCE_OFFICER = "chief_finance_officer", "Chief finance officer"
    NURSE = "nurse", "Nurse member"
    SECONDARY_CARE_DOCTOR = "secondary_care_doctor", "Secondary-care doctor"
    LAY_MEMBER = "lay_member", "Lay member"
    MANAGER = "manager", "Manager"
    LA_OFFICER = "la_officer", "Local authority officer"
    COUNCILLOR = "councillor", "Councillor"
    HWB_MEMBER = "hwb_member", "Health and Wellbeing Board member"
    PATIENT_REPRESENTATIVE = "patient_representative", "Patient representative"
    OTHER_CLINICIAN = "other_clinician", "Other clinician"


class Participant(models.Model):
    """A person who takes part, known in research data only by a pseudonymous identifier."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    pseudonym = models.CharField(max_length=40)
    role_category = models.CharField(max_length=40, choices=RoleCategory.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participants",
    )
    is_simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "pseudonym"], name="unique_pseudonym_per_study"
            )
        ]

    def __str__(self) -> str:
        return self.pseudonym


class ParticipantContact(models.Model):
    """Identifying details, kept apart from research data."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="contact"
    )
    full_name = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"contact for {self.participant}"
