"""Receipt codes (回执码): twelve characters a sender keeps to follow their item, shown in
groups of four (K7QM-3XRA-9PTD); only their digest is stored (storage/feedback.py). The
alphabet is the invite codes': no 0/O, 1/I/L, as they are read off a screen and typed."""

import secrets

from storage.invites import ALPHABET, normalize

LENGTH = 12


def new_receipt() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def as_receipt(text: str) -> str | None:
    """A typed receipt code (any case, with or without dashes), or None if it is not one."""
    code = normalize(text)
    return code if len(code) == LENGTH and all(ch in ALPHABET for ch in code) else None
