"""Text out of the files a branch keeps its study materials in: txt, md, docx and pdf.

A file's title is its first Markdown heading, else a short first line, else its name.
"""

import io
import re
from dataclasses import dataclass
from pathlib import Path

from handlers.common.tables import decode
from handlers.core.extras import MissingExtra, optional_part
from handlers.core.messages import UserError
from handlers.core.parsing import tidy

SUFFIXES = (".txt", ".md", ".docx", ".pdf")
TITLE_LINE = 40  # a first line this short reads as a title
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_EMPHASIS = re.compile(r"\*\*|__|`")  # Markdown marks that would show as-is in a chat


@dataclass(frozen=True)
class Document:
    title: str
    body: str


def _docx_text(raw: bytes) -> str:
    with optional_part("documents", "Word (.docx)"):
        from docx import Document as Docx

    return "\n".join(p.text for p in Docx(io.BytesIO(raw)).paragraphs)


def _pdf_text(raw: bytes) -> str:
    with optional_part("documents", "PDF"):
        from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)


def read_document(name: str, raw: bytes) -> Document:
    """The document's title and text; UserError if it cannot be read or has no text."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".docx":
            text = _docx_text(raw)
        elif suffix == ".pdf":
            text = _pdf_text(raw)
        elif suffix in (".txt", ".md"):
            try:
                text = decode(raw)
            except UserError as err:
                raise UserError("material.encoding", name=name) from err
        else:
            raise UserError("material.bad_format", name=name)
    except UserError:
        raise
    except MissingExtra as err:  # the deployment's choice, not a damaged file
        raise UserError("material.needs_extra", name=name, extra=err.extra) from err
    except Exception as err:  # python-docx and pypdf raise many kinds for a damaged file
        raise UserError("material.unreadable", name=name) from err
    if suffix == ".md":
        text = _EMPHASIS.sub("", text)
    lines = [tidy(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise UserError("material.no_text", name=name)
    heading = _HEADING.match(lines[0])
    if heading:
        return Document(heading.group(1).strip(), "\n".join(lines[1:]))
    if len(lines[0]) <= TITLE_LINE and len(lines) > 1:
        return Document(lines[0], "\n".join(lines[1:]))
    return Document(Path(name).stem, "\n".join(lines))
