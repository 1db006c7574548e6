"""Samples drawn from a frame of organisations, and the units each holds.

A sample records everything needed to draw it again: the frame (kind of organisation and
vintage, plus any filter in ``parameters``), the design's parameters, the seed, the frame's
size and a hash of the frame's identifiers with the parameters.
"""

from django.conf import settings
from django.db import models

from triangulum.organisations.models import OrganisationType


class Sample(models.Model):
    class Method(models.TextChoices):
        CENSUS = "census", "Census"
        STRATIFIED = "stratified", "Stratified random sample"
        PURPOSIVE = "purposive", "Purposive (maximum variation)"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="samples")
    # The phase the sample serves (a survey wave's frame, a case-study phase's sites).
    phase = models.ForeignKey(
        "studies.Phase", null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    name = models.CharField(max_length=200)
    method = models.CharField(max_length=20, choices=Method.choices)
    # The frame: organisations of this type open on this date (filters in parameters).
    org_type = models.CharField(max_length=20, choices=OrganisationType.choices)
    vintage = models.DateField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # None for a census, which uses no random numbers.
    seed = models.BigIntegerField(null=True, blank=True)
    frame_size = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="samples_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # sha256 of the frame's ODS codes with the method, parameters and seed.
    inputs_hash = models.CharField(max_length=64)
    is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="unique_sample_name_per_study"),
            models.CheckConstraint(
                condition=models.Q(frame_size__gte=1), name="sample_frame_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_probability_sample(self) -> bool:
        return self.method != self.Method.PURPOSIVE


class SampleUnit(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="units")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="sample_units"
    )
    stratum = models.CharField(max_length=200, blank=True)
    # Both None for a purposive selection, which gives units no probability of selection.
    inclusion_probability = models.FloatField(null=True, blank=True)
    base_weight = models.FloatField(null=True, blank=True)
    selection_order = models.PositiveIntegerField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["sample", "selection_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "organisation"], name="organisation_once_per_sample"
            ),
            models.UniqueConstraint(
                fields=["sample", "selection_order"], name="unique_selection_order_per_sample"
            ),
            models.CheckConstraint(
                condition=models.Q(inclusion_probability__isnull=True)
                | models.Q(inclusion_probability__gt=0, inclusion_probability__lte=1),
                name="inclusion_probability_in_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(base_weight__isnull=True) | models.Q(base_weight__gte=1),
                name="base_weight_at_least_1",
            ),
            models.CheckConstraint(
                condition=models.Q(inclusion_probability__isnull=True, base_weight__isnull=True)
                | models.Q(inclusion_probability__isnull=False, base_weight__isnull=False),
                name="probability_and_weight_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.sample}"
