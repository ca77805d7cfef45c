"""Keys derived from the configured SECRET_KEY: field encryption and the trace-chain MAC.

One Fernet key encrypts sensitive columns; a separate key, derived with HKDF, signs the traces,
so that someone with the database alone can neither read phone numbers nor rewrite history.
"""

import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    """Encrypts and decrypts sensitive fields; signs and checks trace hashes."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(secret_key.encode())
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"branchbot trace chain"
        ).derive(secret_key.encode())

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, value: str | None) -> bytes | None:
        if value is None or value == "":
            return None
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as err:
            raise ValueError("encrypted field cannot be read with this SECRET_KEY") from err

    def encrypt_bytes(self, content: bytes) -> bytes:
        """A file's bytes encrypted (an archive scan); empty content is still sealed."""
        return self._fernet.encrypt(content)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as err:
            raise ValueError("encrypted file cannot be read with this SECRET_KEY") from err

    def mac(self, payload: bytes) -> str:
        # One C call (hmac.new builds a Python object): every trace is hashed, and walked.
        return hmac.digest(self._mac_key, payload, "sha256").hex()

    def mac_matches(self, payload: bytes, expected: str) -> bool:
        return hmac.compare_digest(self.mac(payload), expected)
