"""Uploaded photos and documents kept by the fake, their file ids, and ``getFile``."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Mapping
from typing import Any

from tests.fakes.telegram_api.api_errors import bad_request
from tests.fakes.telegram_api.api_limits import MAX_PHOTO_BYTES
from tests.fakes.telegram_api.records import Photo, Upload


class FileStore:
    """Uploaded photos and documents, their file ids, and ``getFile``.

    Mixed into ``FakeTelegram``, whose state it uses.
    """

    def _photo_from(self, value: Any, uploads: Mapping[str, Upload], field_name: str) -> Photo:
        if isinstance(value, Upload):
            return self._store_upload(value)
        if not isinstance(value, str) or not value:
            raise bad_request(f'parameter "{field_name}" is required')
        if value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request("can't parse InputMedia: media not found")
            return self._store_upload(upload)
        if re.match(r"(?i)^https?://", value):
            if value in self.broken_urls:
                raise bad_request("failed to get HTTP URL content")
            return self._register(Photo(self._file_id(), self._unique_id(), 1280, 960, url=value))
        known = self._files.get(value)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return known

    def _store_upload(self, upload: Upload) -> Photo:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        try:
            from PIL import Image

            with Image.open(io.BytesIO(upload.data)) as image:
                width, height = image.size
        except Exception:
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        photo = Photo(
            self._file_id(),
            self._unique_id(),
            width,
            height,
            file_size=len(upload.data),
            data=upload.data,
        )
        return self._register(photo)

    def _register(self, photo: Photo) -> Photo:
        photo.file_path = f"photos/file_{len(self._files)}.jpg"
        self._files[photo.file_id] = photo
        self._files[photo.file_id + "_t"] = photo
        self._files_by_path[photo.file_path] = photo
        return photo

    def _file_id(self) -> str:
        return f"AgACAgIAAxk{next(self._file_ids):08d}{secrets.token_urlsafe(12)}"

    @staticmethod
    def _unique_id() -> str:
        return "AQAD" + secrets.token_urlsafe(9)

    def _m_getFile(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        photo = self._files.get(str(params.get("file_id", "")))
        if photo is None:
            raise bad_request("invalid file_id")
        out: dict[str, Any] = {"file_id": photo.file_id, "file_unique_id": photo.file_unique_id}
        if photo.file_size is not None:
            out["file_size"] = photo.file_size
        if photo.data is not None:
            out["file_path"] = photo.file_path
        return out
