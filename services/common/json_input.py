"""JSON bodies as the services accept them: only what every part of the system can carry.

A body is refused, naming where, before any schema sees it, when it holds:
- a lone surrogate (`"\\ud83d"`): it has no UTF-8 form, so it can be neither stored nor
  written into an answer or a message;
- NUL (`"\\u0000"`): PostgreSQL's text and jsonb cannot hold it;
- nesting deeper than MAX_DEPTH: no contract nests that deep, and Python's parser gives up
  (RecursionError) a little past 1,000 levels;
- an integer of more than MAX_INT_DIGITS digits (Python refuses to read more than 4,300
  digits at all, and no field wants more than a bigint), NaN, Infinity, or a number that
  does not fit a float.
What a field may hold beyond that (control characters, lengths, ranges) is its schema's
business: `services.common.fields`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 18  # every integer up to a quintillion; a bigint holds 9.2 quintillion
MAX_NUMBER_LENGTH = 40  # characters of one number as written, exponent included
MAX_PROBLEMS = 20  # a body full of problems gets the first ones, not an answer as large
MAX_NAMED_DEPTH = 8  # a problem deeper down is named by its ancestor this deep

Path = tuple[str | int, ...]

_UNCARRIABLE = re.compile("[\x00\ud800-\udfff]")
# Strings and the punctuation that opens, closes and separates containers, for finding
# where a body too deep for Python's parser goes too deep.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


@dataclass(frozen=True)
class _Refused:
    """Stands in for a number the parser met and the body may not hold."""

    problem: str


class RefusedJson(ValueError):
    """A body that parses but that the system cannot carry; `problems` say where and why."""

    def __init__(self, problems: list[tuple[Path, str]]) -> None:
        self.problems = [(path[:MAX_NAMED_DEPTH], problem) for path, problem in problems]
        where = ", ".join(dict.fromkeys(_dotted(path) for path, _ in self.problems))
        super().__init__(f"the JSON body holds what no field can take, at: {where}")

    @property
    def messages(self) -> dict[str | int, Any]:
        """The problems as marshmallow nests its errors: field, list index, …, messages
        (`_schema` holds those of a place that also has problems further in)."""
        nested: dict[str | int, Any] = {}
        for path, problem in self.problems:
            node = nested
            for step in path[:-1]:
                if isinstance(node.get(step), list):
                    node[step] = {"_schema": node[step]}
                node = node.setdefault(step, {})
            here = node.setdefault(path[-1] if path else "_schema", [])
            if isinstance(here, dict):
                here = here.setdefault("_schema", [])
            if problem not in here:
                here.append(problem)
        return nested


def problem_in_text(text: str) -> str | None:
    """Why `text` cannot be carried (a lone surrogate, NUL), or None."""
    found = _UNCARRIABLE.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "may not contain NUL (U+0000)"
    return f"may not contain a lone surrogate (U+{ord(char):04X}); it is not valid Unicode"


def loads(data: bytes | str) -> Any:
    """Parse a JSON body; json.JSONDecodeError if it is not JSON, RefusedJson (both are
    ValueErrors) if it holds what the system cannot carry."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", "", exc.start) from exc
    else:
        text = data
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise RefusedJson([(_too_deep_in(text), _too_deep())]) from None
    problems = _problems(value)
    if problems:
        raise RefusedJson(problems)
    return value


def _int(literal: str) -> int | _Refused:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(f"a number of {digits} digits; at most {MAX_INT_DIGITS}")
    return int(literal)


def _float(literal: str) -> float | _Refused:
    if len(literal) > MAX_NUMBER_LENGTH:
        return _Refused(
            f"a number written in {len(literal)} characters; at most {MAX_NUMBER_LENGTH}"
        )
    value = float(literal)
    if not math.isfinite(value):
        return _Refused(f"{literal} is out of range for a number")
    return value


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a number")


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def _problems(root: Any) -> list[tuple[Path, str]]:
    """Every uncarriable value, key and nesting in a parsed body (iteratively: it may be
    deep), up to MAX_PROBLEMS of them."""
    problems: list[tuple[Path, str]] = []
    stack: list[tuple[Path, Any, int]] = [((), root, 1)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, value, depth = stack.pop()
        if isinstance(value, _Refused):
            problems.append((path, value.problem))
        elif isinstance(value, str):
            if (problem := problem_in_text(value)) is not None:
                problems.append((path, problem))
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                # Named by the top-level member that holds it, not by a path as deep.
                problems.append((path[:1], _too_deep()))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, child in items:
                if isinstance(key, str) and (problem := problem_in_text(key)) is not None:
                    problems.append(((*path, _nameable(key)), problem))
                    continue
                children.append(((*path, key), child, depth + 1))
            stack.extend(reversed(children))  # popped in document order
    return list(dict.fromkeys(problems))


def _too_deep_in(text: str) -> Path:
    """The top-level member of a body that goes deeper than MAX_DEPTH."""
    depth, outer, key, index, last_string = 0, "", "", 0, ""
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if mark in "[{":
            outer = outer or mark
            depth += 1
            if depth > MAX_DEPTH:
                return (key,) if outer == "{" else (index,)
        elif mark in "]}":
            depth -= 1
        elif depth == 1 and mark == ":":
            key = _key(last_string)
        elif depth == 1 and mark == ",":
            index += 1
        elif mark.startswith('"'):
            last_string = mark
    return ()


def _key(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        return token.strip('"')
    return _nameable(str(key))


def _nameable(key: str) -> str:
    """A key fit to name in an answer: what cannot be carried replaced by U+FFFD."""
    return _UNCARRIABLE.sub("\ufffd", key)


def _dotted(path: Path) -> str:
    return ".".join(str(step) for step in path) or "the body"
