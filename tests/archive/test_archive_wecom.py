"""A scan sent from WeCom: an application receives images only, by MediaId (kept three days),
so the archive fetches the bytes at once (media/get) and keeps them encrypted."""

import hashlib

from sqlalchemy import select

from storage.enums import Role
from storage.roster_models import ArchiveFile
from tests.support.chat import Clock
from tests.support.platforms import Both, WeComUser, heard, person

PHOTO = b"\xff\xd8\xff\xe0 a photo of a certificate " + bytes(range(256))


async def test_a_secretary_on_wecom_keeps_a_photographed_certificate(
    both: Both, clock: Clock
) -> None:
    secretary = await person(both, clock, "wecom", "书记", role=Role.SECRETARY)
    await person(both, clock, "telegram", "张三")
    assert isinstance(secretary, WeComUser)
    await secretary.say("/archive_file 张三")
    await heard(secretary, "请发送 张三 的证书扫描件")
    both.wecom.media["m-1"] = PHOTO
    assert await secretary.member.image("m-1") == 200
    await heard(secretary, "已为 张三 保存附件 f1")
    async with both.services.sessions() as session:
        (kept,) = (await session.scalars(select(ArchiveFile))).all()
    assert kept.mime == "image/jpeg" and kept.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert PHOTO not in kept.content_enc
    await secretary.member.image("gone")  # a media id WeCom no longer has
    await secretary.say("/archive_file 张三")
    await secretary.member.image("gone")
    assert "没能取到这个文件" in await heard(secretary, "没能取到")
