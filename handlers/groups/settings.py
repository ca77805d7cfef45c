"""The group chats' settings (BRANCHBOT_WECOM_BASE_URL, shared with the WeCom adapter)."""

from handlers.core.settings import Section


class GroupSettings(Section):
    # WeCom's API host: the adapter calls it, and a group robot's webhook address must be on
    # it (tests point both at a fake server).
    wecom_base_url: str = "https://qyapi.weixin.qq.com"
