"""Every command that shows someone's record, sent in a branch group, is answered in the
sender's private chat; the group gets only the short note, never the person's data."""

from storage.enums import Role, Stage
from tests.support.chat import Chat
from tests.support.group_posts import group_texts

GROUP = "-100500"
THOUGHT = "本月认真学习了党的理论知识，对照党章查找差距，决心在科研和学习中发挥带头作用。"
# What the group must never read: names, stage, dues and the report.
SECRETS = ("王书记", "党员甲", "积极分子甲", "入党积极分子", "0.37", "0.20", THOUGHT[:8])
# The members' own commands, and the secretary's views of members, in both forms.
MEMBER_COMMANDS = ["/me", "/mydata", "/myreport", "/dues", "我的党费", "我的"]
ACTIVIST_COMMANDS = ["/pipeline", "/thoughts", "我的思想汇报"]
SECRETARY_COMMANDS = [
    "/dues_owed",
    "欠缴党费",
    "/candidates",
    "/pipeline 积极分子甲",
    "/thoughts 积极分子甲",
    "/thought_show 1",
    "/dues 党员甲",
    "/report",
    "/myreport",
    "/member 党员甲",
]


async def test_personal_commands_in_a_group_are_answered_privately(chat: Chat) -> None:
    secretary = await chat.bound("王书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    activist = await chat.bound("积极分子甲", stage=Stage.ACTIVIST)
    assert "0.37" in await secretary.say("/dues_set 党员甲 0.37")
    assert "已提交" in await activist.say(f"/thought {THOUGHT}")
    await secretary.in_group(GROUP).send("/group_bind")
    sent = [
        *((member, c) for c in MEMBER_COMMANDS),
        *((activist, c) for c in ACTIVIST_COMMANDS),
        *((secretary, c) for c in SECRETARY_COMMANDS),
    ]
    for user, command in sent:
        before = len(await group_texts(chat.services, GROUP))
        # The bot reads a Chinese form in a group only as a reply to it (privacy mode).
        reply_to = None if command.startswith("/") else "1"
        answer = await user.in_group(GROUP).privately(command, reply_to=reply_to)
        shown = any(secret in answer for secret in SECRETS)  # the data went privately
        assert shown or command == "/mydata", (command, answer)  # a file, no text
        [note] = (await group_texts(chat.services, GROUP))[before:]
        assert "已私信回复" in note, (command, note)
    for text in await group_texts(chat.services, GROUP):
        assert not any(secret in text for secret in SECRETS), text
