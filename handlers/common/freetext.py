"""Free text one person wrote, put into a message that someone else reads.

A member's words (a leave reason, a comment, a survey answer, a file's name) sit in the bot's
messages to others between lines the bot itself writes. A line break in them could make such
a message show lines the bot never wrote (a reason ending in "\\n已批准"), so the rule is: free
text shown to anyone but its writer goes through `quoted`, which makes it one line, or a block
set apart with a quote bar on every line, so it can never pass for the bot's own lines.
"""

import unicodedata

QUOTE_BAR = "│ "
# Where a line break was, in text squeezed onto one line.
BREAK = " ↵ "
ELLIPSIS = "…"
# Control characters (line breaks among them) and format characters (bidi overrides and
# isolates that reorder what is shown, zero-width characters) are never shown as written.
_HIDDEN = frozenset({"Cc", "Cf"})


def _visible(line: str) -> str:
    return "".join(ch for ch in line if unicodedata.category(ch) not in _HIDDEN).strip()


def text_lines(text: str) -> list[str]:
    """The text's non-empty lines, split at every kind of line break (\\r, \\u2028 ...)."""
    return [line for line in map(_visible, text.splitlines()) if line]


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def quoted(text: str, *, inline: bool = False, limit: int | None = None) -> str:
    """Someone's free text, safe to put into a message to someone else.

    One line comes back as it is (cleaned). Several lines become a block on lines of its own,
    each line behind a quote bar; with `inline` (a value inside a line of the message, such
    as a list entry) they are joined on one line with a visible break mark instead. `limit`
    shortens the text (to that many characters, with an ellipsis) first."""
    lines = text_lines(text)
    if inline or len(lines) <= 1:
        return _cut(BREAK.join(lines), limit)
    if limit is not None:
        lines = text_lines(_cut("\n".join(lines), limit))
    return "".join(f"\n{QUOTE_BAR}{line}" for line in lines)
