"""Time Taguette importing a folder of HTML documents through its own import path.

Run with the Python of a virtual environment that has Taguette installed (never the
project's): ``bench/casework_bench.py`` creates one under ``bench/output/`` and runs this.

Taguette's document upload handler (``taguette.web.api.DocumentAdd.post``) converts the
uploaded file with ``taguette.convert.to_html_chunks`` (for ``.html``: BeautifulSoup and
bleach, no Calibre), adds a ``Document`` and a ``document_add`` ``Command``, and commits.
This script does exactly those steps for each file, in process, without the HTTP layer,
so the time measured is Taguette's own import work and nothing of ours.

Prints one JSON object: the file count, total seconds and per-document timings.
"""

import argparse
import asyncio
import json
import pathlib
import statistics
import sys
import time

from taguette import convert, database
from taguette.main import DEFAULT_CONFIG


async def import_all(folder: pathlib.Path, db_url: str) -> dict:
    session_maker = database.connect(db_url)
    db = session_maker()
    user = database.User(login="bench")
    db.add(user)
    project = database.Project(name="Simulated transcripts", description="simulated data")
    db.add(project)
    db.add(database.ProjectMember(project=project, user=user, privileges=database.Privileges.ADMIN))
    db.commit()
    config = dict(DEFAULT_CONFIG)
    files = sorted(folder.glob("*.html"))
    timings = []
    started, started_cpu = time.perf_counter(), time.process_time()
    for path in files:
        t0 = time.perf_counter()
        body = path.read_bytes()
        contents = await convert.to_html_chunks(body, "text/html", path.name, config)
        document = database.Document(
            name=path.stem,
            description="",
            filename=path.name,
            project=project,
            text_direction=database.TextDirection.LEFT_TO_RIGHT,
            contents=contents,
        )
        db.add(document)
        db.flush()
        db.add(database.Command.document_add("bench", document))
        db.commit()
        timings.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    stored = db.query(database.Document).count()
    return {
        "files": len(files),
        "documents_stored": stored,
        "seconds": total,
        "cpu_seconds": cpu,
        "per_document_median_s": statistics.median(timings) if timings else None,
        "per_document_max_s": max(timings) if timings else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("database", help="a fresh SQLite file to create")
    args = parser.parse_args()
    db_path = pathlib.Path(args.database)
    if db_path.exists():
        db_path.unlink()
    result = asyncio.run(import_all(args.folder, f"sqlite:///{db_path}"))
    import taguette

    result["taguette_version"] = taguette.__version__
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
