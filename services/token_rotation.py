"""Re-encrypting stored tokens after a key rotation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import accounts as accounts_repo
from services.crypto import TokenCipher


async def rotate_all_tokens(session: AsyncSession, cipher: TokenCipher) -> int:
    """Re-encrypt every account's tokens under the newest key; returns how many."""
    count = 0
    for account in await accounts_repo.list_accounts(session):
        values: dict[str, str] = {
            "access_token_encrypted": cipher.rotate(account.access_token_encrypted)
        }
        if account.refresh_token_encrypted:
            values["refresh_token_encrypted"] = cipher.rotate(account.refresh_token_encrypted)
        await accounts_repo.update_account(session, account.id, **values)
        count += 1
    return count
