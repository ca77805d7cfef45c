"""A member's record as staff see and change it: `/member NAME` (member_view.py) and
`/member_set` (member_edit.py) register on this feature."""

from handlers.core.registry import Feature

feature = Feature("record", order=("member", "member_set"))
