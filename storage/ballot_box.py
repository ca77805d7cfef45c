"""An encrypted, shuffled list of ballots, as anonymous surveys, votes and feedback keep
them: one sealed value per box, each ballot inserted at a random place, so neither row order
nor ids nor times say whose ballot is whose."""

import json
import secrets
from typing import Any

from storage.crypto import SecretBox


def opened(box: SecretBox, sealed: bytes | None) -> list[dict[str, Any]]:
    """The ballots in a sealed box, in its (random) order."""
    text = box.decrypt(sealed)
    return list(json.loads(text)) if text else []


def sealed_again(box: SecretBox, ballots: list[dict[str, Any]]) -> bytes:
    """The ballots sealed as a box, in the order given."""
    resealed = box.encrypt(json.dumps(ballots, ensure_ascii=False))
    assert resealed is not None  # a list always encrypts to a token
    return resealed


def put_in(box: SecretBox, sealed: bytes | None, ballot: dict[str, Any]) -> tuple[bytes, int]:
    """The box sealed again with `ballot` at a random place, and how many it now holds."""
    ballots = opened(box, sealed)
    ballots.insert(secrets.randbelow(len(ballots) + 1), ballot)
    return sealed_again(box, ballots), len(ballots)
