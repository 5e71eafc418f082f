"""Settings that shape a store's behaviour, independent of which backends it uses."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_ALLOWED_TYPES", "PasswordHashing", "StoreSettings"]

DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/webm",
        "video/quicktime",
    }
)


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
    password_hashing: PasswordHashing = PasswordHashing()
