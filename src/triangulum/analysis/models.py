"""Analysis runs and their results, each with its provenance."""

from django.conf import settings
from django.db import models


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="analysis_runs"
    )
    step = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict)
    seed = models.BigIntegerField()
    # SHA-256 of the tidy input tables (see tidy.StudyData.inputs_hash).
    inputs_hash = models.CharField(max_length=64)
    code_version = models.CharField(max_length=120)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    is_simulated = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["study", "step", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.step} ({self.started_at:%Y-%m-%d %H:%M})"


class AnalysisResult(models.Model):
    class Kind(models.TextChoices):
        TABLE = "table", "Table"
        FIGURE = "figure", "Figure"
        TEXT = "text", "Text"

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="results")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    caption = models.TextField()
    # Tidy rows (a list of flat objects) for a table; SVG text for a figure.
    data = models.JSONField(null=True, blank=True)
    # The column order of ``data`` (PostgreSQL's jsonb does not keep the keys' order).
    column_order = models.JSONField(default=list, blank=True)
    svg = models.TextField(blank=True)
    text = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["run", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="one_result_name_per_run")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def columns(self) -> list[str]:
        names: list[str] = list(self.column_order or [])
        for row in self.data or []:
            for key in row:
                if key not in names:
                    names.append(key)
        return names
