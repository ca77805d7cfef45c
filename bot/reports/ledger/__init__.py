"""The ledger (台账) as a file: Word, PDF or JSON, each carrying the export's watermark."""

from handlers.core.i18n import Renderer
from handlers.core.messages import Msg
from handlers.orglife.ledger import Ledger

MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "json": "application/json",
}
FORMATS = tuple(MIME)


def ledger_file(fmt: str, renderer: Renderer, ledger: Ledger, mark: Msg) -> tuple[bytes, str]:
    """The ledger in format `fmt` and its mime type. Word and PDF need the `documents` extra
    (imported here, lazily, so the JSON does not)."""
    if fmt == "json":
        from bot.reports.ledger.data import ledger_json

        return ledger_json(ledger, renderer.render(mark)), MIME[fmt]
    from bot.reports.ledger.text import ledger_text
    from handlers.core.extras import optional_part

    text = ledger_text(renderer, ledger, mark)
    if fmt == "docx":
        with optional_part("documents", "Word (.docx)"):
            from bot.reports.ledger.word import ledger_docx
        return ledger_docx(text), MIME[fmt]
    if fmt == "pdf":
        with optional_part("documents", "PDF"):
            from bot.reports.ledger.pdf import ledger_pdf
        return ledger_pdf(text), MIME[fmt]
    raise ValueError(f"unknown ledger format {fmt!r}")
