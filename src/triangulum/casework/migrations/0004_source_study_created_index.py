# Written by hand: an index the models do not declare (like the trigram index of 0003).

from django.db import migrations

INDEX = "casework_source_study_created"


class Migration(migrations.Migration):
    """An index on source (study, created_at), so that the case-study queries read the
    creation times that key their cache of source texts (queries._SourceCache) from the
    index alone. In SQLite a source's row holds its text before ``created_at``, and
    reaching that column from the row means walking the text's overflow pages: for 500
    sources of 64 KB that is most of what reading the texts costs."""

    dependencies = [("casework", "0003_coding_covering_index")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON casework_source (study_id, created_at)",
            f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
