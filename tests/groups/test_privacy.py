"""Personal commands sent in a group are answered privately; the group gets a short note."""

from storage.enums import Role
from tests.support.chat import Chat
from tests.support.notices import queued

GROUP = "-100500"


async def test_me_in_a_group_is_answered_privately_with_a_note(chat: Chat) -> None:
    member = await chat.bound("党员甲")
    replies = await member.in_group(GROUP).send("/me")
    assert replies and all(r.chat == member.account_id for r in replies)
    assert "党员甲" in chat.services.renderer.render(replies[0].text)
    [note] = await queued(chat.services, chat_id=GROUP)
    assert "已私信回复" in note.text and "党员甲" not in note.text


async def test_a_stranger_in_a_group_is_shown_the_way_to_the_private_chat(chat: Chat) -> None:
    stranger = chat.user().in_group(GROUP)
    [reply] = await stranger.send("/me")
    assert reply.chat is None and reply.text is not None and reply.text.key == "error.not_bound"


async def test_a_button_pressed_in_a_group_answers_on_the_pressers_screen(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    stranger = chat.user().in_group(GROUP)
    [toast] = await stranger.send(callback="/me")
    assert toast.toast and toast.text is not None
    [private] = await secretary.in_group(GROUP).send(callback="/me")
    assert private.toast
