"""Each report file built: what it was built from and what came out."""

from django.conf import settings
from django.db import models


class ReportBuild(models.Model):
    class Kind(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner report"
        GUIDANCE = "guidance", "Guidance document"
        ARTICLE = "article", "Article pack"

    class Format(models.TextChoices):
        DOCX = "docx", "Word (.docx)"
        PDF = "pdf", "PDF"
        HTML = "html", "HTML"

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="report_builds"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    format = models.CharField(max_length=10, choices=Format.choices)
    # SHA-256 of the report's provenance (data snapshot hashes, code version, parameters,
    # seeds): equal inputs hash -> the same document.
    inputs_hash = models.CharField(max_length=64)
    # SHA-256 of the file's bytes.
    output_sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    filename = models.CharField(max_length=200)
    # Where the file was written ("" for a build served straight to a browser).
    path = models.CharField(max_length=1000, blank=True)
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A description of who built it when that is not a user (the demo, a command).
    built_by_name = models.CharField(max_length=150, blank=True)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-built_at", "-id"]
        indexes = [models.Index(fields=["study", "kind", "format", "-built_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["practitioner", "guidance", "article"]),
                name="report_build_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=["docx", "pdf", "html"]),
                name="report_build_format_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.format}) {self.built_at:%Y-%m-%d %H:%M}"
