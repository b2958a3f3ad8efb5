"""Re-encrypting stored tokens after a key rotation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SocialMediaAccount
from db.repositories import accounts as accounts_repo
from db.repositories import agents as agents_repo
from services.crypto import DecryptionError, TokenCipher
from services.errors import ServiceError


class KeyMismatchError(ServiceError):
    """A stored token that no configured key opens; the message names its account."""


async def rotate_all_tokens(session: AsyncSession, cipher: TokenCipher) -> int:
    """Re-encrypt every account's tokens under the newest key; returns how many.

    Raises `KeyMismatchError` naming the first account whose token no key opens; the
    caller's unit of work then rolls back, so either every token moves or none does.
    """
    count = 0
    for account in await accounts_repo.list_accounts(session):
        try:
            values: dict[str, str] = {
                "access_token_encrypted": cipher.rotate(account.access_token_encrypted)
            }
            if account.refresh_token_encrypted:
                values["refresh_token_encrypted"] = cipher.rotate(account.refresh_token_encrypted)
        except DecryptionError:
            raise KeyMismatchError(await _cannot_open(session, account)) from None
        await accounts_repo.update_account(session, account.id, **values)
        count += 1
    return count


async def _cannot_open(session: AsyncSession, account: SocialMediaAccount) -> str:
    agent = await agents_repo.get_agent(session, account.agent_id)
    owner = agent.email if agent is not None else "an unknown agent"
    name = f"{account.display_name} " if account.display_name else ""
    return (
        f"No key in ENCRYPTION_KEY opens the token of the {account.platform.title()} account "
        f"{name}({account.account_id}) of {owner}, so no token was re-encrypted; put the key "
        "it was stored with after the new one (ENCRYPTION_KEY=new,old) and run rotate-key "
        "again, or reconnect that account."
    )
