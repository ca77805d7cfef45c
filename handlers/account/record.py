"""A member's record as staff see and change it: `/member NAME` (member_view.py) and
`/member_set` (member_edit.py) and `/roster_export` (roster_export.py) register on this
feature."""

from handlers.core.registry import Feature

feature = Feature("record", order=("member", "member_set", "roster_export"))
