"""Data-access monitoring (泄露监测): rules over the traces of reads, alerts, the access log."""

from handlers.access import log
from handlers.access.feature import feature
from handlers.access.rules import watch
from handlers.access.watermark import exporter, watermark, watermark_fields

__all__ = ["exporter", "feature", "log", "watch", "watermark", "watermark_fields"]
