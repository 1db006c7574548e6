from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    """12345 → '12,345'; empty for a missing number (so ``default`` can say so)."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.filter
def percent(share) -> str:
    """A share between 0 and 1 as a percentage to one decimal place; empty if unknown."""
    if share is None:
        return ""
    return f"{share * 100:.1f}%"
