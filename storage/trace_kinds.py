"""Every trace kind the system writes, in one place, with what it records.

Kinds are dotted `noun.verb`. Add a kind here before writing it; `append` refuses unknown kinds,
and `branchbot trace-kinds` prints it (docs/architecture.md's trace table follows it).
"""

TRACE_KINDS: dict[str, str] = {
    "branch.created": "a branch was created (CLI, or a split into a new branch)",
    "branch.renamed": "a branch was renamed; data: old, new (names), via, by",
    "branch.merged": "a branch was merged into another and archived from a day's start; its "
    "members (member.transferred, because merge) and its meetings not yet held moved; data: "
    "source, target (names), target_id, on, members (how many), meetings (ids moved), "
    "cancelled (pending transfers), via, by",
    "branch.split": "members of a branch were moved into a new or another branch; data: "
    "source, target (names), target_id, created, on, members (how many), via, by",
    "branch.archived": "a branch that no longer exists was archived (it had no members left); "
    "data: on, cancelled (pending transfers), via, by",
    "group.bound": "a group chat was bound to a branch (none: school-wide); ref: group:ID; data: "
    "platform, title, kind (appchat: a WeCom application chat made by /group_create; robot: a "
    "WeCom group robot)",
    "group.unbound": "a group chat was unbound; ref: group:ID; data: why (command, or removed: "
    "the bot was taken out of the group)",
    "group.moved": "a bound Telegram group became a supergroup under a new chat id; ref: group:ID; "
    "data: from, to",
    "rollcall.created": "a roll-call (接龙) was started in a group; ref: rollcall:ID; data: group, "
    "topic, deadline, capacity, attached_to (meeting:ID or an activity's name)",
    "rollcall.joined": "a member joined a roll-call; member: who; ref: rollcall:ID; data: position",
    "rollcall.left": "a member left a roll-call (the entry is kept, marked withdrawn); member: "
    "who; ref: rollcall:ID",
    "rollcall.closed": "a roll-call closed, at its deadline (no actor) or early by a command; ref: "
    "rollcall:ID; data: why (deadline, command), on_list (how many)",
    "rollcall.exported": "a roll-call's list was exported; ref: rollcall:ID; data: format, rows",
    "highlights.switched": "a branch group's weekly highlights were turned on or off; ref: "
    "group:ID; data: on",
    "member.created": "a member was added (CLI, roster import or /invite)",
    "member.imported": "a roster file was imported into a branch; data: file name, rows, added",
    "member.changed": "a member's record was changed; data: field, old, new (a phone only as "
    "changed, never its value), via (chat/cli), by (the OS user, CLI), because (handover: "
    "demoted as another became secretary)",
    "member.transfer_requested": "a transfer within the school was asked for, waiting for the "
    "receiving branch; data: move, from, to (branch names), on",
    "member.transferred": "a member moved to another branch of the school from a date; data: "
    "move, from, to (branch names), on, role (a branch office given up), via, by",
    "member.transfer_refused": "the receiving branch refused a transfer; data: move, why",
    "member.left": "a member left the roster (transferred out, graduated, 停止党籍, 出党, died); "
    "data: move, reason, on, to and letter_no (a transfer out), basis, batch (graduation)",
    "member.transferred_in": "a member transferred in from outside the school was recorded; "
    "data: move, from (organisation), letter_no, on",
    "archive.added": "an entry was added to a member's archive (education, work, award, "
    "punishment); ref: archive:ID; data: kind, since, until, via, by (never what it says)",
    "archive.file_added": "a scan was kept with a member's archive; ref: archive_file:ID; "
    "data: entry, mime, size, sha256, via, by (never the content)",
    "archive.withdrawn": "an archive entry or scan was withdrawn (kept, marked withdrawn); ref: "
    "archive:ID or archive_file:ID; data: reason, files (scans withdrawn with an entry), via, by",
    "member.bound": "a chat account was bound to a member; data: platform",
    "invite.issued": "an invite code was issued for a member (the code itself is never stored)",
    "invite.rejected": "a wrong, used or expired invite code was tried, or a code for a "
    "platform its member already has an account on; ref: the account; data: reason",
    "bind_code.issued": "a code to bind a further platform was issued for a bound member; "
    "data: platforms already bound, expires (the code itself is never stored)",
    "data.viewed": "someone viewed a person's record; member: whose, actor: who",
    "data.exported": "a person's data, a roster or the traces were exported; data: what and format",
    "notice.created": "a notice was sent; ref: notice:ID; data: audience, recipients, reachable",
    "notice.delivered": "the platform accepted a notice for a member; ref: notice:ID",
    "notice.failed": "a notice could not be delivered to a member; data: status and error",
    "notice.acknowledged": "a member pressed 收到; data: seconds since the notice was sent",
    "notice.reminded": "the notice went again to those who had not acknowledged; data: round",
    "outbox.failed": "a queued message was given up (blocked or out of attempts); data: error",
    "meeting.created": "a meeting was scheduled; ref: meeting:ID; data: kind, start",
    "meeting.moved": "a meeting was moved; data: from, to",
    "meeting.cancelled": "a meeting was cancelled",
    "checkin.opened": "check-in was opened (by a secretary, or actor empty: automatically)",
    "checkin.recorded": "a member checked in; data: mode (code/location/online), late",
    "leave.requested": "a member asked for leave; data: request id (the reason stays in the "
    "request, encrypted)",
    "leave.approved": "a leave request was approved (the member is excused)",
    "leave.rejected": "a leave request was rejected",
    "reminder.sent": "a meeting reminder went out; data: minutes before, how many",
    "attendance.finalized": "attendance was finalised after the meeting; data: counts",
    "vote.opened": "a vote (表决) was opened at a general assembly; member: whose admission or "
    "conversion; ref: vote:ID; data: kind, meeting, entitled, electors",
    "vote.cast": "a member voted (never how: the ballot is in the sealed box); ref: vote:ID",
    "vote.closed": "a vote was closed and counted; member: whose; ref: vote:ID; data: for, "
    "against, abstain, cast, electors, entitled, passed",
    "minutes.recorder_named": "the secretary named who records a meeting's minutes; member: "
    "the recorder; ref: meeting:ID",
    "minutes.submitted": "a meeting's minutes were handed in or corrected (a new version); ref: "
    "meeting:ID; data: version, topics (how many), document, note (what a correction changed)",
    "minutes.photo_added": "a photo of a meeting was kept; ref: meeting:ID; data: photo, size, "
    "sha256",
    "minutes.reminded": "minutes not handed in were asked for (the recorder the next day, the "
    "secretary after three); ref: minutes:MEETING:recorder|secretary",
    "appraisal.self_written": "a member wrote (or rewrote) their self-evaluation for a 民主评议 "
    "(kept encrypted); ref: vote:ID; data: length, again",
    "appraisal.graded": "the committee recorded a member's grade in a 民主评议; member: whose; "
    "ref: vote:ID; data: grade, again",
    "vote.confirmed": "an election's result was taken over into the members' roles; ref: "
    "vote:ID; data: changed (how many roles)",
    "orglife.reminded": "a branch's secretaries were reminded of a kind of meeting still missing "
    "in a period about to end; ref: orglife:BRANCH:RULE:PERIOD_START; data: rule",
    "member.nudged": "a member with no meeting for months was kindly reminded",
    "care.excused": "the secretary recorded a member excused from meetings for a period (sick "
    "leave or another reason); ref: care_excusal:ID; data: kind, since, until (never the 说明)",
    "care.excusal_withdrawn": "a recorded excusal was withdrawn (kept, marked); ref: "
    "care_excusal:ID; data: kind, since, until",
    "care.noted": "the secretary recorded a care note on a member (a reason, a talk, a "
    "conclusion); ref: care_note:ID; data: kind (never the text)",
    "care.alerted": "a branch's secretaries were told that a member's months without "
    "organisational life or unpaid reached a threshold of the six-month rule; ref: care:MEMBER; "
    "data: measures (each: count, since, threshold), listed (at six months, in the list)",
    "care.reminded": "a member was kindly reminded at four months; ref: care:MEMBER; data: "
    "measures (each: count, since, threshold)",
    "segments.viewed": "a branch's groups of members (/segments) were viewed, or one group's "
    "talk list; ref: branch:ID; data: members, groups (id: how many) or segment, names (whether "
    "names were shown), window, version, for (talk); never who is in which group",
    "clusters.viewed": "the school's members in kinds by k-means (/clusters) were viewed; data: "
    "members, k, silhouette, sizes, branches, window; never a name",
    "quiz.started": "a member began a quiz; ref: quiz:ID; data: mode, counted, questions",
    "quiz.answered": "a quiz question was answered; data: question, correct, seconds taken",
    "quiz.completed": "a quiz ended; data: score, total, counted, streak (or abandoned/expired)",
    "quiz.reminded": "members who had not done the day's quiz were reminded; data: how many",
    "question.imported": "questions were imported (CLI); data: file, added, updated, retired",
    "material.added": "a study material was added; ref: material:ID; data: title, keywords",
    "material.removed": "a study material was withdrawn; ref: material:ID",
    "material.pushed": "a material was sent to a member (daily push); ref: material:ID",
    "material.learned": "a member marked a material 已学习; ref: material:ID",
    "search.performed": "a member searched the materials; data: query, hits",
    "stage.changed": "a person's file got a step: kind (advance/dated/extend/cancel), from, to, "
    "on, decision, meeting, approved_on, months",
    "contact.assigned": "contact persons (培养联系人) assigned; data: contacts, ended (replaced)",
    "talk.recorded": "a talk (谈话) with a person was recorded; data: on, note",
    "review.recorded": "a person's political review (政审) was recorded as done; data: on",
    "training.recorded": "concentrated training (集中培训) was recorded; data: on, hours",
    "pipeline.reminded": "someone was reminded of a development deadline; data: rule, due",
    "thought.submitted": "a thought report was handed in; ref: thought:ID; data: stage, document",
    "thought.viewed": "a thought report was opened by someone other than its author",
    "thought.read": "a reader marked a thought report read; data: commented",
    "thought.reminded": "a person was reminded that a thought report is due; data: due",
    "dues.rate_set": "a member's monthly dues were set; data: amount (yuan)",
    "dues.recorded": "dues paid for a month were recorded; data: month, amount, source",
    "dues.imported": "a dues statement was imported; data: file, rows",
    "dues.reminded": "a member was reminded of unpaid months; data: months",
    "volunteer.reported": "volunteer service was reported; ref: volunteer:ID; data: day, hours",
    "volunteer.approved": "volunteer hours were approved (they count in the evaluation)",
    "volunteer.rejected": "volunteer hours were rejected",
    "survey.created": "a survey was created; ref: survey:ID; data: title, anonymous, audience",
    "survey.answered": "a member took part in a survey (never what they answered); ref: survey:ID",
    "survey.closed": "a survey closed (deadline or by hand); data: answers, audience",
    "survey.reminded": "those who had not answered were reminded; data: how many",
    "survey.results_viewed": "someone viewed a survey's results; data: answers, withheld",
    "feedback.submitted": "a suggestion or concern reached the branch committee (意见箱); ref: "
    "feedback:ID; a named one when sent (member and actor: its sender), an anonymous one when "
    "its branch's box is opened after the day it was sent (no member, no actor); data: "
    "anonymous, on (that day)",
    "feedback.answered": "the committee answered an item (never what it said); ref: feedback:ID; "
    "member: a named item's sender; data: answer (its number), told (the sender was told)",
    "feedback.closed": "an item was closed; ref: feedback:ID; member: a named item's sender; "
    "data: answers (how many it had)",
    "feedback.reminded": "a branch's secretaries were reminded of an item unanswered for 14 days "
    "(then weekly); ref: feedback:ID; data: days, reminder (which one)",
    "disclosure.published": "the secretary made a decision of a 支部党员大会 public (党务公开); "
    "ref: decision:ID; data: meeting",
    "disclosure.withdrawn": "a published decision was withdrawn; ref: decision:ID; data: meeting",
    "access.refused": (
        "a command or a record was refused (role, private, branch, scope, missing, code); "
        "data: command, reason, target (the record asked for; also the ref)"
    ),
    "web.login": "someone signed in to the web page with a one-time code; data: step",
    "access.alert": "unusual access to people's data was detected; data: rule, actor, count",
    "candidates.viewed": "the side-by-side evidence table was viewed; data: view, people",
    "chain.broken": "a full walk found the trace chain broken; data: bad_id, reason, checked",
    "backup.restored": "the database was restored from a backup (CLI; anything recorded after "
    "the backup was taken is not in it); data: taken_at, revision, head (the backup's last "
    "trace), rows, file, by",
    "key.rotated": "SECRET_KEY was replaced (CLI): every encrypted value re-encrypted and the "
    "chain re-signed; data: old_head and old_hash (the head under the old key), resigned, "
    "values, invites_revoked, web_codes_deleted, by",
}


def is_known(kind: str) -> bool:
    return kind in TRACE_KINDS
