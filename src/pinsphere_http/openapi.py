"""The OpenAPI document: problem answers described as ``application/problem+json``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from pinsphere_http.problems import PROBLEM_MEDIA_TYPE, Problem
from pinsphere_http.responses import PROBLEM_SCHEMA_REF

__all__ = ["install_openapi"]


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = schema.pop("$defs", {})
    schemas["Problem"] = schema
    return schemas


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every error as a problem.

    FastAPI documents its 422 as its own ``HTTPValidationError`` in ``application/json``;
    this service answers a problem document instead, so the document says that.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(_problem_schemas())
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _problem("Unprocessable Content")
                if "requestBody" in operation and "400" not in responses:
                    # A body that does not parse at all (not JSON, a broken form) is a 400.
                    responses["400"] = _problem("Bad Request")
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
