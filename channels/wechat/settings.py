"""Settings of the WeChat Official Account channel (composed into service.settings.Settings)."""

from pydantic import BaseModel, Field

from channels.wechat.enums import EncryptionMode


class WeChatSettings(BaseModel):
    """Credentials and endpoints of the WeChat channel; secrets come from the environment only.

    Set them as ``WECHAT__TOKEN``, ``WECHAT__APP_ID``, ``WECHAT__APP_SECRET`` and
    ``WECHAT__ENCODING_AES_KEY``; the defaults are empty so nothing secret lives in the repo.
    """

    enabled: bool = True
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    # 43 characters, from the account's developer settings; needed in safe and compatible modes.
    encoding_aes_key: str = ""
    mode: EncryptionMode = EncryptionMode.plaintext
    api_base_url: str = "https://api.weixin.qq.com"
    api_timeout_seconds: float = Field(default=5.0, gt=0)
    # WeChat gives up after 5 s; answering within this budget leaves room for the network.
    passive_reply_budget_seconds: float = Field(default=4.0, gt=0)
    # Requests whose signed timestamp is older (or further in the future) than this are refused.
    max_clock_skew_seconds: int = Field(default=300, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Refresh the cached access_token this long before WeChat says it expires.
    token_refresh_margin_seconds: int = Field(default=300, ge=0)
    # How often undelivered customer-service messages (network errors) are retried.
    outbox_sweep_seconds: float = Field(default=30.0, gt=0)
    # Dedup records older than this are removed by the sweep; WeChat retries within ~15 s.
    inbound_retention_hours: int = Field(default=72, ge=1)
