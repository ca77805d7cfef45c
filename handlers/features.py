"""The features the router serves: FEATURES is the explicit list; its order is the order of
/help."""

from handlers import (
    access,
    archive,
    branches,
    disclosure,
    dues,
    evaluation,
    groups,
    highlights,
    meetings,
    minutes,
    moves,
    notices,
    orglife,
    pipeline,
    record_year,
    rollcall,
    study,
    surveys,
    thoughts,
    volunteer,
    votes,
)

# member_edit, member_view and roster_export are imported for their commands: they register on
# record.feature.
from handlers.account import (  # noqa: F401
    help,
    member_edit,
    member_view,
    onboarding,
    profile,
    record,
    roster_export,
)

# They register on care's feature.
from handlers.care import (  # noqa: F401
    clusters,
    excuse,
    listing,
    notes,
    segment_actions,
    segments,
)
from handlers.care.feature import feature as care
from handlers.core.registry import Feature
from handlers.feedback import committee, send, status  # noqa: F401  (they register on its feature)
from handlers.feedback.feature import feature as feedback

FEATURES: tuple[Feature, ...] = (
    help.feature,
    onboarding.feature,
    profile.feature,
    record.feature,
    moves.feature,
    branches.feature,
    archive.feature,
    meetings.feature,
    minutes.feature,
    orglife.feature,
    notices.feature,
    groups.feature,
    rollcall.feature,
    highlights.feature,
    study.feature,
    pipeline.feature,
    votes.feature,
    thoughts.feature,
    dues.feature,
    volunteer.feature,
    surveys.feature,
    access.feature,
    evaluation.feature,
    record_year.feature,
    care,
    feedback,
    disclosure.feature,
)
