"""The features the router serves: FEATURES is the explicit list; its order is the order of
/help."""

from handlers import (
    access,
    dues,
    evaluation,
    meetings,
    notices,
    pipeline,
    study,
    surveys,
    thoughts,
    volunteer,
)
from handlers.account import help, onboarding, profile
from handlers.core.registry import Feature

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
