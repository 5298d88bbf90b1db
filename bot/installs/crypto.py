"""Encryption at rest for Slack tokens: Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``.

``TOKEN_ENCRYPTION_KEY`` encrypts; it and ``TOKEN_ENCRYPTION_OLD_KEYS`` decrypt, so a key can be rotated
(``readiness workspace rekey`` re-encrypts every stored token with the current key).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text, TypeDecorator

from bot.errors import ConfigError
from bot.settings import Settings


class TokenKeyError(ConfigError):
    """A stored token cannot be decrypted with any configured key."""


def token_cipher(settings: Settings) -> MultiFernet:
    if settings.token_encryption_key is None:
        raise ConfigError("TOKEN_ENCRYPTION_KEY is not set: OAuth mode stores Slack tokens encrypted and needs a "
                          "key (32 bytes, URL-safe base64; see README, Settings)")
    keys = [settings.token_encryption_key.get_secret_value()]
    if settings.token_encryption_old_keys is not None:
        keys += [k.strip() for k in settings.token_encryption_old_keys.get_secret_value().split(",") if k.strip()]
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


class EncryptedToken(TypeDecorator[str]):
    """A token column as the application sees it: plain text in Python, Fernet ciphertext in the database."""

    impl = Text
    cache_ok = False  # holds the cipher

    def __init__(self, cipher: MultiFernet, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return self.cipher.decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise TokenKeyError("a stored Slack token cannot be decrypted with TOKEN_ENCRYPTION_KEY or "
                                "TOKEN_ENCRYPTION_OLD_KEYS: was the key changed without keeping the old one?") from None
