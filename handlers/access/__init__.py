"""Data-access monitoring (泄露监测): rules over the traces of reads, alerts, the access log."""

from handlers.access.feature import feature

__all__ = ["feature"]
