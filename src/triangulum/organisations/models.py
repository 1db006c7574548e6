"""Organisations of the English NHS and local government, their successions and links.

An organisation is identified by its ODS code within a kind of organisation (the same
code ``16C`` names a CCG until 30 June 2022 and a sub-ICB location from 1 July 2022),
and is open from ``open_date`` to ``close_date`` inclusive; a missing date means open
since before, or still open after, the records we hold (GP practices have neither date:
they are open as far as our records go). See docs/adr/0004.
"""

from django.db import models


class OrganisationType(models.TextChoices):
    CCG = "ccg", "Clinical Commissioning Group"
    ICB = "icb", "Integrated Care Board"
    SUB_ICB = "sub_icb", "Sub-ICB location"
    HWB = "hwb", "Health and Wellbeing Board (upper-tier local authority)"
    PRACTICE = "practice", "GP practice"


class Organisation(models.Model):
    org_type = models.CharField(max_length=20, choices=OrganisationType.choices)
    ods_code = models.CharField(max_length=12)
    ons_code = models.CharField(max_length=12, blank=True)
    name = models.CharField(max_length=200)
    open_date = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    region_code = models.CharField(max_length=12, blank=True)
    region_name = models.CharField(max_length=100, blank=True)
    area_team_code = models.CharField(max_length=12, blank=True)
    area_team_name = models.CharField(max_length=100, blank=True)
    registered_patients = models.PositiveIntegerField(null=True, blank=True)
    practices = models.PositiveIntegerField(null=True, blank=True)
    # 2013/14 allocation in £000 (approximate: a secondary transcription).
    allocation_000s = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # Anything else a source gives (LA type, QOF list size, ...), and attributes that
    # later analyses attach (such as a typology class).
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["org_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org_type", "ods_code"], name="unique_code_per_type"),
            models.CheckConstraint(
                condition=models.Q(close_date__isnull=True)
                | models.Q(open_date__isnull=True)
                | models.Q(close_date__gte=models.F("open_date")),
                name="organisation_closes_after_it_opens",
            ),
        ]
        indexes = [models.Index(fields=["org_type", "region_code"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class Succession(models.Model):
    class Kind(models.TextChoices):
        MERGED_INTO = "merged_into", "merged into"
        REPLACED_BY = "replaced_by", "replaced by"
        CONTINUED_AS = "continued_as", "continued as"

    predecessor = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="successions_out"
    )
    successor = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="successions_in"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    effective_date = models.DateField()
    # Share of the predecessor's small areas (LSOAs) that went to this successor, where known.
    share = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["effective_date", "predecessor__ods_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="one_succession_per_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(predecessor=models.F("successor")),
                name="succession_links_two_organisations",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.predecessor} {self.get_kind_display()} {self.successor} ({self.effective_date})"
        )


class AreaLink(models.Model):
    """A commissioning body's geographic overlap with a Health and Wellbeing Board's area."""

    commissioner = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="area_links"
    )
    hwb = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="commissioner_links"
    )
    share_of_commissioner = models.FloatField(null=True, blank=True)
    share_of_hwb = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["commissioner__ods_code", "hwb__name"]
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "hwb"], name="one_link_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.commissioner} ↔ {self.hwb}"
