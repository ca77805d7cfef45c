"""The watermark line every export carries, naming who exported it and when, so a leaked file
can be traced back to its export (and to the data.exported trace the line numbers).

The wording lives in the catalog (`access.watermark`); a file made at the edge (the CLI)
renders the Msg in its language. A file made inside a handler (the JSON of /mydata) cannot
render catalog text, so it carries the same facts as fields (see `watermark_fields`).
"""

from datetime import datetime
from typing import Any

from handlers.core.messages import Msg

APP = "branchbot"


def exporter(name: str, member_id: int | None = None) -> Msg:
    """Who exported: a member (name and #id), or a command-line user (the OS account)."""
    if member_id is None:
        return Msg("access.exporter_cli", user=name)
    return Msg("access.exporter_member", name=name, id=member_id)


def watermark(who: Msg, at: datetime, trace_id: int | None = None) -> Msg:
    """The watermark line: who exported, when, and the export's trace number if known."""
    trace = Msg("access.watermark_trace", id=trace_id) if trace_id is not None else ""
    return Msg("access.watermark", who=who, at=at, trace=trace)


def watermark_fields(
    name: str, member_id: int | None, at: datetime, trace_id: int | None = None
) -> dict[str, Any]:
    """The watermark's facts for a machine-readable file made where nothing is rendered."""
    return {
        "exported_by": name,
        "member": member_id,
        "exported_at": at.isoformat(),
        "trace": trace_id,
        "app": APP,
    }
