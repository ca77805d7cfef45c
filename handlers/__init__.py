"""Feature handlers: one module per feature, each with its own `Feature` of commands.

FEATURES is the explicit list the router serves; the order is the order of /help.
"""

from handlers import help, meetings, notices, onboarding, profile, study
from handlers.registry import Feature

FEATURES: tuple[Feature, ...] = (
    help.feature,
    onboarding.feature,
    profile.feature,
    meetings.feature,
    notices.feature,
    study.feature,
)
