"""Access tokens: who a token is, its scopes, `debug_token` and `/me`."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.graph_api.graph_faults import _REVOKED_MESSAGES, GraphFault
from tests.fakes.graph_api.records import FakeToken


class TokenMethods:
    """Access tokens: who a token is, its scopes, `debug_token` and `/me`.

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def _auth(self, token: str | None) -> FakeToken:
        if not token:
            raise GraphFault(104, "An access token is required to request this resource.")
        tok = self.tokens.get(token)
        if tok is None:
            raise GraphFault(190, "Invalid OAuth access token - Cannot parse access token")
        if tok.revoked_subcode is not None:
            raise GraphFault(
                190,
                _REVOKED_MESSAGES.get(tok.revoked_subcode, "Error validating access token."),
                subcode=tok.revoked_subcode,
            )
        if tok.expires_at and tok.expires_at < time.time():
            raise GraphFault(
                190, "Error validating access token: Session has expired.", subcode=463
            )
        return tok

    def _require_scope(self, tok: FakeToken, *needed: str) -> None:
        missing = [s for s in needed if s not in tok.scopes]
        if not missing:
            return
        if "pages_manage_posts" in missing:
            raise GraphFault(
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts permission with page token",
            )
        raise GraphFault(10, "(#10) Application does not have permission for this action")

    def _debug_token(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.debug_token_available:
            raise GraphFault(
                100,
                "(#100) You must provide an app access token, or a user access token that is an "
                "owner or developer of the app",
            )
        input_token = params.get("input_token")
        tok = self.tokens.get(str(input_token)) if input_token else None
        if tok is None or tok.revoked_subcode is not None:
            subcode = tok.revoked_subcode if tok is not None else None
            return {
                "data": {
                    "is_valid": False,
                    "error": {
                        "code": 190,
                        "message": "Invalid OAuth access token.",
                        **({"subcode": subcode} if subcode else {}),
                    },
                    "scopes": [],
                }
            }
        data: dict[str, Any] = {
            "app_id": "1234567890",
            "type": tok.type,
            "application": "rltr-mktg",
            "data_access_expires_at": tok.data_access_expires_at,
            "expires_at": tok.expires_at,
            "is_valid": True,
            "issued_at": int(time.time()) - 3600,
            "scopes": list(tok.scopes),
            "granular_scopes": [
                {"scope": s, "target_ids": sorted(tok.accounts)} for s in tok.scopes
            ],
            "user_id": tok.user_id,
        }
        if tok.type == "PAGE":
            data["profile_id"] = tok.profile_id
        return {"data": data}

    def _me(self, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        if tok.type == "PAGE" and tok.profile_id in self.pages:
            page = self.pages[tok.profile_id]
            return self._fields(
                "Page", {"id": page.page_id, "name": page.name, "category": page.category}, params
            )
        return self._fields("User", {"id": tok.user_id, "name": tok.user_name}, params)
