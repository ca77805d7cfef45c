"""The features the router serves: FEATURES is the explicit list; its order is the order of
/help."""

from handlers import (
    access,
    branches,
    dues,
    evaluation,
    meetings,
    moves,
    notices,
    pipeline,
    study,
    surveys,
    thoughts,
    volunteer,
)

# member_edit and member_view are imported for their commands: they register on record.feature.
from handlers.account import help, member_edit, member_view, onboarding, profile, record  # noqa: F401
from handlers.core.registry import Feature

FEATURES: tuple[Feature, ...] = (
    help.feature,
    onboarding.feature,
    profile.feature,
    record.feature,
    moves.feature,
    branches.feature,
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
