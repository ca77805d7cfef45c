"""How transfers and leavings read in a member's record history (`/member NAME`)."""

from typing import Any

from handlers.account.member_view import HISTORY_LINES
from handlers.core.messages import Msg


def _transferred(data: dict[str, Any]) -> Msg:
    because = data.get("because")  # a whole branch merged or split
    return Msg(
        "moves.hist_transferred",
        source=data.get("from") or "-",
        target=data.get("to") or "-",
        on=data.get("on") or "-",
        because=Msg(f"moves.because.{because}") if because in ("merge", "split") else "",
    )


def _requested(data: dict[str, Any]) -> Msg:
    return Msg("moves.hist_requested", target=data.get("to") or "-", on=data.get("on") or "-")


def _refused(data: dict[str, Any]) -> Msg:
    return Msg("moves.hist_refused", why=data.get("why") or Msg("moves.no_reason"))


def _left(data: dict[str, Any]) -> Msg:
    detail: Msg | str = ""
    if data.get("to"):
        detail = Msg("moves.hist_to", to=data["to"], letter_no=data.get("letter_no") or "-")
    elif data.get("basis"):
        detail = Msg("moves.hist_basis", basis=data["basis"])
    reason = Msg(f"departure.{data.get('reason')}")
    return Msg("moves.hist_left", reason=reason, on=data.get("on") or "-", detail=detail)


def _transferred_in(data: dict[str, Any]) -> Msg:
    return Msg(
        "moves.hist_in",
        source=data.get("from") or "-",
        letter_no=data.get("letter_no") or "-",
        on=data.get("on") or "-",
    )


HISTORY_LINES.update(
    {
        "member.transferred": _transferred,
        "member.transfer_requested": _requested,
        "member.transfer_refused": _refused,
        "member.left": _left,
        "member.transferred_in": _transferred_in,
    }
)
