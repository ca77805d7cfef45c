"""The feedback box (意见箱): any member sends a suggestion or a concern to the branch
committee, named or anonymous, and follows it with a receipt code; the committee lists,
answers and closes the items, and the secretaries are reminded of those left unanswered.

Kept light on purpose, as handlers/care is: /mydata imports feedback.export, and the command
modules (send, status, committee) are imported by handlers/features.py, where they register
on feedback.feature.feature; the scheduler calls the daily parts in feedback.daily.
"""
