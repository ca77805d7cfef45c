from handlers.core.registry import Feature

feature = Feature(
    "votes",
    order=(
        "vote_open",
        "vote",
        "vote_close",
        "votes",
        "election_open",
        "elect",
        "election_confirm",
        "appraisal_open",
        "appraisal_self",
        "appraise",
        "appraisal_view",
        "appraisal_grade",
        "appraisal_mine",
    ),
)
