"""Feature handlers: one module per feature, each with its own `Feature` of commands.

FEATURES is the explicit list the router serves; the order is the order of /help.
"""

from handlers import (
    access,
    dues,
    evaluation,
    help,
    meetings,
    notices,
    onboarding,
    pipeline,
    profile,
    study,
    surveys,
    thoughts,
    volunteer,
)
from handlers.registry import Feature

FEATURES: tuple[Feature, ...] = (
    help.feature,
    onboarding.feature,
    profile.feature,
    meetings.feature,
    notices.feature,
    study.feature,
    pipeline.feature,
    thoughts.feature,
    dues.feature,
    volunteer.feature,
    surveys.feature,
    access.feature,
    evaluation.feature,
)
