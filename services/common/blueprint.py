"""flask-smorest's Blueprint, with the pagination header documented as the JSON it is."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask_smorest.pagination import PaginationMetadataSchema


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """Use this Blueprint in every service.

    `X-Pagination` carries a JSON object. flask-smorest documents it as a bare object
    schema, which OpenAPI reads as `key,value,…` (the "simple" header style) and clients
    and schema checkers then parse wrongly; `content: application/json` says what it is.
    """

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
