"""Settings that shape a store's behaviour, independent of which backends it uses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pinsphere.errors import InvalidInput
from pinsphere.media.pipeline import DeriveSettings
from pinsphere.media.sniff import DEFAULT_ALLOWED_TYPES

__all__ = ["DEFAULT_ALLOWED_TYPES", "PasswordHashing", "StoreSettings"]


class PasswordHashing(BaseModel):
    """Argon2id cost parameters (the defaults are argon2-cffi's recommended ones).

    Lower them only for tests: they are what makes a stolen hash expensive to crack.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_cost: int = Field(default=3, ge=1)
    memory_cost_kib: int = Field(default=65536, ge=8)
    parallelism: int = Field(default=4, ge=1)


class StoreSettings(BaseModel):
    """How a store treats uploads, searches and passwords.

    Attributes:
        max_upload_bytes: Larger uploads fail with ``TooLarge`` while streaming.
        allowed_types: MIME types accepted, decided from the bytes, never the file name.
        max_image_pixels: Images declaring more pixels are rejected (decompression bombs).
        chunk_size: Bytes read and written per step when streaming blobs.
        max_page_size: The largest ``limit`` a search accepts.
        min_password_length: Shorter passwords are refused.
        refresh_token_lifetime: How long a refresh token stays usable.
        derive_media: Make thumbnails and placeholders, read media facts and strip
            identifying metadata at upload (off: originals only).
        media: Thumbnail widths, encoding and decoding bounds.
        processing: ``inline`` (default): an upload returns once its thumbnails exist.
            ``background``: it returns once the original is stored, checked and stripped,
            with the pin ``pending``; a worker pool of the store derives the rest.
        processing_workers: Threads of that pool.
        password_hashing: Argon2id parameters.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    allowed_types: frozenset[str] = DEFAULT_ALLOWED_TYPES
    max_image_pixels: int = Field(default=100_000_000, gt=0)
    chunk_size: int = Field(default=1024 * 1024, gt=0)
    max_page_size: int = Field(default=200, gt=0)
    min_password_length: int = Field(default=8, ge=1)
    refresh_token_lifetime: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    derive_media: bool = True
    media: DeriveSettings = DeriveSettings()
    processing: Literal["inline", "background"] = "inline"
    processing_workers: int = Field(default=2, ge=1)
    password_hashing: PasswordHashing = PasswordHashing()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        """Settings from ``PINSPHERE_*`` environment variables, defaults for the rest.

        ``PINSPHERE_MAX_UPLOAD_BYTES``, ``PINSPHERE_ALLOWED_TYPES`` (comma-separated),
        ``PINSPHERE_MAX_IMAGE_PIXELS``, ``PINSPHERE_CHUNK_SIZE``, ``PINSPHERE_MAX_PAGE_SIZE``,
        ``PINSPHERE_MIN_PASSWORD_LENGTH``, ``PINSPHERE_REFRESH_TOKEN_LIFETIME`` (seconds),
        ``PINSPHERE_PROCESSING`` (``inline`` or ``background``),
        ``PINSPHERE_PROCESSING_WORKERS``,
        ``PINSPHERE_ARGON2_TIME_COST``, ``PINSPHERE_ARGON2_MEMORY_KIB``,
        ``PINSPHERE_ARGON2_PARALLELISM``. Every worker of a service reads the same variables,
        so they all apply the same limits.

        Raises:
            InvalidInput: A variable holds a value the setting does not accept.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in _ENV_FIELDS:
            raw = env.get(f"PINSPHERE_{name.upper()}")
            if raw is not None:
                values[name] = raw
        try:
            if "allowed_types" in values:
                values["allowed_types"] = frozenset(
                    part.strip().lower()
                    for part in str(values["allowed_types"]).split(",")
                    if part.strip()
                )
            if "refresh_token_lifetime" in values:
                values["refresh_token_lifetime"] = timedelta(
                    seconds=float(str(values["refresh_token_lifetime"]))
                )
            hashing = {
                field: env[f"PINSPHERE_ARGON2_{variable}"]
                for field, variable in _ARGON2_ENV.items()
                if f"PINSPHERE_ARGON2_{variable}" in env
            }
            if hashing:
                values["password_hashing"] = hashing
            return cls.model_validate(values)
        except (ValidationError, ValueError) as exc:
            raise InvalidInput(f"bad PINSPHERE_* setting: {exc}") from exc


_ENV_FIELDS = (
    "max_upload_bytes",
    "allowed_types",
    "max_image_pixels",
    "chunk_size",
    "max_page_size",
    "min_password_length",
    "refresh_token_lifetime",
    "processing",
    "processing_workers",
)
_ARGON2_ENV = {
    "time_cost": "TIME_COST",
    "memory_cost_kib": "MEMORY_KIB",
    "parallelism": "PARALLELISM",
}
