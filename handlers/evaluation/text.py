"""Small pieces of scorecard wording shared by chat, the CLI files and the web page."""

from handlers.core.messages import Msg
from storage.chain import ChainState


def chain_warning(chain: ChainState) -> Msg | None:
    """The warning every report leads with when the trace chain is broken; None when sound."""
    if chain.ok:
        return None
    return Msg("evaluation.chain_broken", id=chain.bad_id or chain.checked_to + 1)


def chain_note(chain: ChainState) -> Msg | None:
    """What the check behind a sound report covered: the last full walk and the rows since."""
    if not chain.ok:
        return None
    if chain.walked_at is None:
        return Msg("evaluation.chain_sound_all", count=chain.checked_to)
    return Msg(
        "evaluation.chain_sound",
        walked=chain.walked_at,
        walked_to=chain.walked_to,
        after=chain.checked_to - chain.walked_to,
    )


def why(excluded: str | None) -> Msg:
    """Why a member is not ranked on an indicator."""
    return Msg(f"evaluation.why.{excluded or 'no_base'}")


def figure(value: float) -> float | int:
    """A count as an int when whole (3, not 3.0)."""
    return int(value) if float(value).is_integer() else round(value, 2)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"
