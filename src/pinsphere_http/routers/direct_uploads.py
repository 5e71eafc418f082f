"""Direct uploads: large files sent by the client straight to the bucket, then made pins.

``POST /api/v1/uploads`` hands out a signed form for a key the service picks;
the client sends the form's fields and then the file (the last part, named ``file``) as
``multipart/form-data`` to the form's URL; ``POST /api/v1/uploads/{id}/complete`` then checks
the object the way an ordinary upload is checked and answers the new pin. See
:mod:`pinsphere.direct_uploads`.

A store whose files are not in an object store that signs upload forms (S3, MinIO) answers
``501``: upload through ``POST /api/v1/pins`` instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pinsphere import Pin, Visibility
from pinsphere.direct_uploads import DirectUpload, DirectUploadsUnsupported
from pinsphere.tags import MAX_BOARD_NAME_LENGTH
from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems

__all__ = ["DirectUploadComplete", "DirectUploadStart", "router"]

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


class DirectUploadStart(BaseModel):
    """What the client says about the file it is about to send."""

    model_config = ConfigDict(extra="forbid")

    size: int | None = Field(
        default=None,
        ge=1,
        description="The file's size in bytes; the bucket then accepts no more than that. "
        "Without it, up to the service's upload limit.",
    )


class DirectUploadComplete(BaseModel):
    """The new pin's metadata, as for an ordinary upload."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    board: str | None = Field(
        default=None, max_length=MAX_BOARD_NAME_LENGTH, description="A board of yours."
    )
    visibility: Visibility = "private"
    keep_location: bool = Field(
        default=False, description="Keep the GPS position in the stored file."
    )


@router.post(
    "",
    response_model=DirectUpload,
    summary="Start a direct upload",
    responses=problems(401, 403, 413, 422, 501, 503),
)
def start_upload(
    user: CurrentUser,
    scope: Scope,
    body: Annotated[DirectUploadStart | None, Body()] = None,
) -> Response:
    """A signed form that lets the caller send one file straight to the bucket.

    Send ``fields`` and then the file (the last part, named ``file``) as
    ``multipart/form-data`` to ``url`` before ``expires_at``, then complete the upload with
    its ``id``. The bucket refuses another key, an empty or larger file, or a late one.
    501 when this service's files are not in a bucket that signs upload forms.
    """
    try:
        upload = scope.start_direct_upload(size=None if body is None else body.size)
    except DirectUploadsUnsupported as exc:
        raise ProblemError(
            501,
            "direct-uploads-unsupported",
            "this service cannot take direct uploads; upload through POST /api/v1/pins",
        ) from exc
    return json_model(upload)


@router.post(
    "/{upload_id}/complete",
    status_code=201,
    response_model=Pin,
    summary="Complete a direct upload",
    responses=problems(401, 403, 404, 413, 415, 422, 503),
)
def complete_upload(
    upload_id: str,
    user: CurrentUser,
    scope: Scope,
    body: Annotated[DirectUploadComplete | None, Body()] = None,
) -> Response:
    """Check the file sent for an upload of the caller's and make it a pin.

    The file is checked as an ordinary upload is (its type sniffed from its bytes, its size,
    its integrity), then removed from where it waited; a refused file (415, 413) is removed
    too. 404 for an upload that was never sent, is completed already, has been swept, or is
    someone else's.
    """
    meta = body or DirectUploadComplete()
    pin = scope.finish_direct_upload(
        upload_id,
        title=meta.title,
        description=meta.description,
        tags=meta.tags,
        board=meta.board or None,
        visibility=meta.visibility,
        keep_location=meta.keep_location,
    )
    return json_model(pin, status_code=201, headers={"Location": f"/api/v1/pins/{pin.id}"})
