"""Survey fieldwork: instruments and their versions, waves, interviews, calls, appointments
and answers.

An *interview* is one respondent (a ``studies.Participant``, e.g. a governing-body member
of a CCG) in one *wave*. Every call attempt, appointment and answer hangs off it, and every
answer records the instrument version it was asked under. The data model follows queXS's
(cases, call attempts, appointments, outcomes mapped to AAPOR codes).
"""

import secrets

from django.conf import settings
from django.db import models


def new_web_token() -> str:
    # 32 bytes from the OS's CSPRNG: a self-completion link that cannot be guessed.
    return secrets.token_urlsafe(32)


class Mode(models.TextChoices):
    TELEPHONE = "telephone", "Telephone (interviewer-administered)"
    WEB = "web", "Web (self-completion)"
    PAPER = "paper", "Paper (keyed in by staff)"


class Instrument(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="instruments")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=300)

    class Meta:
        ordering = ["study", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["study", "slug"], name="unique_instrument_per_study")
        ]

    def __str__(self) -> str:
        return self.title


class InstrumentVersion(models.Model):
    """One XLSForm as uploaded, kept byte for byte, with its parsed form."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=60)
    file_name = models.CharField(max_length=255)
    file_bytes = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    # The parsed form (pyxform's JSON survey), so the engine is rebuilt without re-reading
    # the spreadsheet.
    form_json = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["instrument", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "version"], name="unique_version_per_instrument"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.version}"


class Wave(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="waves")
    phase = models.ForeignKey(
        "studies.Phase", null=True, blank=True, on_delete=models.SET_NULL, related_name="waves"
    )
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    instrument_version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="waves"
    )
    frame_vintage = models.DateField()
    field_start = models.DateField()
    field_end = models.DateField()
    modes = models.JSONField(default=list)  # values of Mode
    max_attempts = models.PositiveSmallIntegerField(default=8)
    # Calling windows as {"weekdays": [0..6], "start": "09:00", "end": "17:30"} in Europe/London.
    calling_windows = models.JSONField(default=dict, blank=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="unique_wave_number"),
            models.CheckConstraint(
                condition=models.Q(field_end__gte=models.F("field_start")),
                name="wave_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Interview(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        APPOINTMENT = "appointment", "Appointment booked"
        COMPLETE = "complete", "Complete"
        FINALISED = "finalised", "Finalised without interview"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="interviews")
    participant = models.ForeignKey(
        "studies.Participant", on_delete=models.PROTECT, related_name="interviews"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.TELEPHONE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    # The AAPOR final (or current temporary) disposition code, e.g. "1.1", "2.112", "4.10".
    disposition = models.CharField(max_length=10, blank=True)
    priority = models.SmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not to be called before this moment (retry delay after the last outcome).
    next_call_after = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    web_token = models.CharField(max_length=64, unique=True, default=new_web_token)
    # Where a partial interview resumes: the item path it stopped at.
    resume_at = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Numbers found wrong or unobtainable, so the next call tries another one.
    wrong_numbers = models.JSONField(default=list, blank=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["wave", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "participant"], name="one_interview_per_wave_participant"
            )
        ]
        indexes = [models.Index(fields=["wave", "status", "next_call_after"])]

    def __str__(self) -> str:
        return f"{self.wave}: {self.participant}"


class CallAttempt(models.Model):
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="calls")
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    number_dialled = models.CharField(max_length=40, blank=True)
    # An outcome from fieldwork.outcomes, and the AAPOR code it maps to.
    outcome = models.CharField(max_length=40)
    aapor_code = models.CharField(max_length=10)
    notes = models.TextField(blank=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["interview", "started_at", "id"]

    def __str__(self) -> str:
        return f"{self.interview} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class Appointment(models.Model):
    class Kind(models.TextChoices):
        HARD = "hard", "Hard (a fixed time agreed with the respondent)"
        SOFT = "soft", "Soft (a suggested time to try)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        KEPT = "kept", "Kept"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="appointments")
    due_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.interview} at {self.due_at:%Y-%m-%d %H:%M} ({self.kind})"


class Answer(models.Model):
    """One item's answer, saved as it is given (so a killed server loses nothing answered)."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="answers")
    # The item's path in the form, with repeat instances numbered, e.g. "/survey/grp/q1"
    # or "/survey/members[2]/role".
    item_path = models.CharField(max_length=300)
    value = models.JSONField(null=True)
    instrument_version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="answers"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices)
    answered_at = models.DateTimeField(auto_now=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["interview", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "item_path"], name="one_answer_per_item_path"
            )
        ]

    def __str__(self) -> str:
        return f"{self.interview} {self.item_path}"
