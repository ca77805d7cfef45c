"""Meeting set-up: the one-line /meeting_new the tests create meetings with."""

# The clock fixture starts at 2026-11-24 10:00 in Shanghai (02:00 UTC).
ONE_LINE = "/meeting_new 2026-11-25 14:30 | 主题党日 | 学习全会精神 | 化工楼301 | https://meeting.example/123"
