"""flask-smorest's Blueprint, reading JSON bodies with the guard and documenting pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import flask_smorest
from flask_smorest.pagination import PaginationMetadataSchema
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from services.common import json_input
from services.common.db import Database


class GuardedParser(FlaskParser):
    """webargs' Flask parser, but a body is read by `json_input.loads`: what no field can
    take (a lone surrogate, NUL, nesting or numbers out of bounds) is a 400 naming where."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return missing
        try:
            return json_input.loads(req.get_data(cache=True))
        except json_input.RefusedJson as exc:
            abort(400, exc=exc, message=str(exc), messages={"json": exc.messages})


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """Use this Blueprint in every service.

    `X-Pagination` carries a JSON object. flask-smorest documents it as a bare object
    schema, which OpenAPI reads as `key,value,…` (the "simple" header style) and clients
    and schema checkers then parse wrongly; `content: application/json` says what it is.
    """

    ARGUMENTS_PARSER = GuardedParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's `arguments`, with a schema class made into its instance once.

        Given a class, webargs makes a new instance on every request, and each instance
        its nested schemas anew (four for a report, each building its fields).
        Marshmallow schemas keep no state between loads, so one instance serves all.
        """
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }


def one_page(
    db: Database,
    lister: Callable[..., tuple[list[Any], int]],
    pagination_parameters: Any,
    **filters: Any,
) -> list[Any]:
    """One page of a list view, read in one session: `lister(session, offset=, limit=,
    **filters)` returns the page and the total, which goes to the `X-Pagination` header."""
    with db.sessions() as session:
        page, total = lister(
            session,
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
            **filters,
        )
    pagination_parameters.item_count = total
    return page
