"""Who is calling: the API key in ``Authorization: Bearer``, resolved to a scoped application view."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..services.context import Facegate
from ..services.keys import authenticate

__all__ = ["Caller"]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `facegate keys create` (fgk_...), sent as `Authorization: Bearer <key>`.",
)


def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(_bearer)) -> Facegate:
    root: Facegate = request.app.state.facegate
    principal = authenticate(root, credentials.credentials if credentials else None)
    return root.acting_as(principal)


#: The application as the calling API key may use it.
Caller = Annotated[Facegate, Depends(_caller)]
