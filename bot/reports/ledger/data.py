"""The ledger as JSON for other systems: stable English keys, times in ISO 8601 with their
offset, photos by SHA-256 and size (not their bytes), the watermark a field."""

import json
from typing import Any

from handlers.orglife.ledger import PRESENCES, Ledger, LedgerMeeting, Person

FORMAT_VERSION = 1


def ledger_json(ledger: Ledger, watermark: str) -> bytes:
    content = {
        "format": "branchbot.ledger",
        "version": FORMAT_VERSION,
        "watermark": watermark,
        "branch": {"id": ledger.branch_id, "name": ledger.branch},
        "year": ledger.year,
        "made_at": ledger.made_at.isoformat(),
        "rules": {"version": ledger.rules.version, "basis": ledger.rules.basis},
        "summary": [
            {
                "rule": row.rule.id,
                "kind": str(row.rule.kind),
                "period": row.rule.period,
                "since": row.period.since.isoformat(),
                "until": row.period.until.isoformat(),
                "needed": row.rule.at_least,
                "held": row.held,
                "met": row.met,
                "ended": row.ended,
            }
            for row in ledger.summary
        ],
        "meetings": [_meeting(m) for m in ledger.meetings],
    }
    return json.dumps(content, ensure_ascii=False, indent=2).encode()


def _people(people: list[Person]) -> list[dict[str, Any]]:
    return [{"id": p.id, "name": p.name, "late": p.late} for p in people]


def _meeting(meeting: LedgerMeeting) -> dict[str, Any]:
    minutes = meeting.minutes
    return {
        "id": meeting.id,
        "kind": meeting.kind,
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "minutes_long": meeting.length,
        "place": meeting.place,
        "online_link": meeting.online_link,
        "school_wide": meeting.school_wide,
        "status": meeting.status,
        "attendance": {
            "expected": _people(meeting.expected),
            **{str(p): _people(meeting.attendance[p]) for p in PRESENCES},
            "late": _people(meeting.late),
            "unrecorded": _people(meeting.unrecorded),
        },
        "record": None
        if minutes is None
        else {
            "version": minutes.version,
            "versions": minutes.versions,
            "submitted_at": minutes.submitted_at.isoformat(),
            "topics": minutes.topics,
            "host": minutes.host,
            "recorder": minutes.recorder,
            "text": minutes.text,
            "document": minutes.document_name,
        },
        "photos": [
            {"name": p.name, "mime": p.mime, "size": p.size, "sha256": p.sha256}
            for p in meeting.photos
        ],
        "votes": [
            {
                "id": v.id,
                "kind": v.kind,
                "subject": v.subject,
                "entitled": v.entitled,
                "closed": v.closed,
                **{k: v.result.get(k) for k in ("for", "against", "abstain", "cast", "passed")},
                # An election's: who was elected (member ids) and the tie for another round.
                **{k: v.result[k] for k in ("elected", "tied") if k in v.result},
            }
            for v in meeting.votes
        ],
    }
