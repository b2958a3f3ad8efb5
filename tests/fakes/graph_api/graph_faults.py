"""The Graph's errors: `GraphFault` (raised inside handlers), the error envelope, and
the wordings of not-found and revoked-token errors.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any


class GraphFault(Exception):
    """Raised inside handlers; becomes a Graph error body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        http_status: int = 400,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.http_status = http_status
        self.type = type
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg


def graph_error_body(
    code: int | None,
    message: str,
    *,
    subcode: int | None = None,
    type: str = "OAuthException",
    is_transient: bool | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
) -> dict[str, Any]:
    """The Graph's error envelope."""
    err: dict[str, Any] = {"message": message, "type": type}
    if code is not None:
        err["code"] = code
    if subcode is not None:
        err["error_subcode"] = subcode
    if is_transient is not None:
        err["is_transient"] = is_transient
    if user_title:
        err["error_user_title"] = user_title
    if user_msg:
        err["error_user_msg"] = user_msg
    err["fbtrace_id"] = base64.urlsafe_b64encode(secrets.token_bytes(17)).decode()[:23]
    return {"error": err}


def _not_found(obj_id: str, method: str) -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{obj_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type="GraphMethodException",
    )


_REVOKED_MESSAGES = {
    458: "Error validating access token: The user has not authorized application 1234567890.",
    459: "Error validating access token: You cannot access the app till you log in to "
    "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired.",
    464: "Error validating access token: Sessions for the user are not allowed because the user "
    "is not a confirmed user.",
    467: "Error validating access token: The access token is invalid.",
}
