"""Demo step: load the real NHS organisations and write the 2013 CCG frame."""

from datetime import date

from triangulum.core.demo_registry import DemoContext, DemoStep

from . import queries
from .actions import load_nhs_organisations

CCG_FRAME_VINTAGE = date(2013, 4, 1)


def run(ctx: DemoContext) -> None:
    summary = load_nhs_organisations(actor="triangulum demo")
    ctx.shared["organisations_loaded"] = summary
    ccg_frame = queries.frame("ccg", vintage=CCG_FRAME_VINTAGE)
    path = ctx.outputs / f"frame_ccg_{CCG_FRAME_VINTAGE.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        queries.write_csv(ccg_frame, handle)
    ctx.record(
        f"Sampling frame: the {ccg_frame.count()} CCGs open on 1 April 2013 (real NHS data)",
        path,
    )


STEPS = [DemoStep("Load NHS organisations (2013–2022)", run)]
