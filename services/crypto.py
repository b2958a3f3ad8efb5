"""Encryption of stored tokens (Fernet, with key rotation) and password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.redaction import remember_secret


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


class TokenCipher:
    """Encrypts with the first key; decrypts with any (so keys can rotate)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a secret for storage."""
        remember_secret(plaintext)
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str, *, what: str = "a stored token") -> str:
        """Decrypt a stored secret; `what` names it in the error (never the secret)."""
        try:
            plaintext = self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise DecryptionError(
                f"Cannot decrypt {what}: the encryption key changed; restore the old key in "
                "ENCRYPTION_KEY (after the new one) or reconnect the account."
            ) from None
        remember_secret(plaintext)
        return plaintext

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise DecryptionError(
                "Cannot re-encrypt a token: no configured key opens it."
            ) from None


def generate_key() -> str:
    """A new Fernet key."""
    return Fernet.generate_key().decode()


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    if not password:
        raise ValueError("password must not be empty")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
