"""Requests that carry photos: multipart upload, or JSON with base64 (bare or a ``data:`` URI).

Both arrive at the same endpoint; :func:`read_photo_request` returns the
validated fields and the raw image bytes, and :func:`photo_body` documents both
forms in the OpenAPI schema.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from ..errors import InvalidInput, UnsupportedFormat
from ..imaging import media_type_matches

__all__ = ["read_photo_request", "photo_body"]

M = TypeVar("M", bound=BaseModel)
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.+-]+)*);base64,(.*)", re.DOTALL | re.IGNORECASE)
MAX_PHOTOS = 10


def photo_body(model: type[BaseModel], photos: dict[str, bool]) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint taking ``model``'s fields plus photo fields (name -> several?)."""
    fields = model.model_json_schema()
    props = dict(fields.get("properties", {}))
    required = list(fields.get("required", []))

    def schema(binary: bool) -> dict[str, Any]:
        one = {"type": "string", "format": "binary"} if binary else {
            "type": "string", "description": "Base64, bare or as a data: URI (data:image/jpeg;base64,...)."
        }
        photo_props = {
            name: ({"type": "array", "items": one, "minItems": 1, "maxItems": MAX_PHOTOS} if many else one)
            for name, many in photos.items()
        }
        return {
            "type": "object",
            "properties": {**props, **photo_props},
            "required": required + list(photos),
            **({} if binary else {"additionalProperties": False}),
        }

    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema(True)}, "application/json": {"schema": schema(False)}},
        }
    }


async def read_photo_request(request: Request, model: type[M], photos: dict[str, bool]) -> tuple[M, dict[str, list[bytes]]]:
    """(validated fields, photo bytes by field) from a multipart or JSON body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        values = await _json_object(request)
        images = {name: _decode_all(name, values.pop(name, None), many) for name, many in photos.items()}
    elif media_type == "multipart/form-data":
        values, images = await _form(request, photos)
    else:
        raise HTTPException(415, "Send the photo as multipart/form-data or as application/json with base64.")
    try:
        return model.model_validate(values), images
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        values = await request.json()
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise HTTPException(400, "The request body is not valid JSON.") from None
    if not isinstance(values, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return values


async def _form(request: Request, photos: dict[str, bool]) -> tuple[dict[str, Any], dict[str, list[bytes]]]:
    try:
        limit = request.app.state.max_body_bytes
        body = await request.body()  # within the size cap; the parser below reads this copy
        boundary = _boundary(request.headers.get("content-type", ""))
        if boundary is None or not body.rstrip(b"\r\n").endswith(b"--" + boundary + b"--"):
            raise HTTPException(400, "The multipart body is incomplete or has no boundary; send the whole request.")
        form = await request.form(max_files=MAX_PHOTOS * len(photos) + 1, max_fields=50, max_part_size=limit)
    except HTTPException:
        raise
    except Exception as exc:  # the multipart parser's own errors: a malformed body
        raise HTTPException(400, f"The multipart body cannot be parsed ({exc}).") from None
    values: dict[str, Any] = {}
    images: dict[str, list[bytes]] = {name: [] for name in photos}
    for name, value in form.multi_items():
        if name in photos:
            if isinstance(value, UploadFile):
                data = await value.read()
                _check_declared(name, data, value.content_type or "")
            else:
                data = _decode(name, value)
            images[name].append(data)
        elif isinstance(value, UploadFile):
            raise InvalidInput(f"Unexpected file field {name[:40]!r}; photos go in {', '.join(photos)}.")
        else:
            values[name] = value
    for name, many in photos.items():
        _count(name, images[name], many)
    return values, images


def _boundary(content_type: str) -> bytes | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode("latin-1", "replace")
    return None


def _decode_all(name: str, value: Any, many: bool) -> list[bytes]:
    if value is None:
        items: list[Any] = []
    elif many and isinstance(value, list):
        items = value
    else:
        items = [value]
    if not all(isinstance(v, str) for v in items) or (not many and isinstance(value, list)):
        raise InvalidInput(f"{name} must be {'a list of base64 strings' if many else 'a base64 string'}.")
    data = [_decode(name, v) for v in items]
    _count(name, data, many)
    return data


def _count(name: str, data: list[bytes], many: bool) -> None:
    if not data:
        raise InvalidInput(f"A photo is required in {name!r}.")
    if not many and len(data) > 1:
        raise InvalidInput(f"Send one photo in {name!r}.")
    if len(data) > MAX_PHOTOS:
        raise InvalidInput(f"At most {MAX_PHOTOS} photos at once.")


def _decode(name: str, text: str) -> bytes:
    declared = ""
    match = _DATA_URI.fullmatch(text.strip())
    if match:
        declared, text = match.group(1) or "", match.group(3)
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{name} is not valid base64 (nor a data: URI with base64).") from None
    if not data:
        raise InvalidInput(f"{name} is empty.")
    _check_declared(name, data, declared)
    return data


def _check_declared(name: str, data: bytes, declared: str) -> None:
    media_type = declared.split(";")[0].strip().lower()
    if media_type and not media_type.startswith("image/") and media_type != "application/octet-stream":
        raise UnsupportedFormat(f"{name} is declared as {media_type}, not as an image.")
    found = media_type_matches(data, declared)
    if found is not None:
        raise UnsupportedFormat(f"{name} is declared as {declared.split(';')[0]} but the data is {found}.")
