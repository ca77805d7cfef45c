"""Care for each member (党员关怀): the six-month rule (《中国共产党章程》第九条) counted from
the records, the secretary's excusals and notes, and the daily notices; its rules in
data/rules.toml. The groups of members for targeted work (segments, data/segments.toml) and
the school's clusters. The annual record per member (handlers/record_year) and the feedback
box (handlers/feedback) are features of their own.

Kept light on purpose: /mydata imports care.export, and the command modules (which import
dues and meetings) are imported by handlers/features.py, where they register on
care.feature.feature; the scheduler calls care.alerts.remind_care.
"""
