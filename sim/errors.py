"""User-facing errors: one line each, `FILE:LINE: path.to.field: what is wrong (got VALUE); how to fix`.

Every command catches `PeaksimError`, prints its lines and exits with status 2: bad input is
the planner's to fix, so they get a pointer into their file rather than a traceback.
"""

from __future__ import annotations

import difflib
import re

from pydantic import BaseModel, ValidationError

AT_PATH = re.compile(r"^@([^@]+)@\s*(.*)$", re.S)


class PeaksimError(Exception):
    """An input problem the user can fix; `lines` are printed as they are."""

    def __init__(self, lines: list[str] | str):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class ScenarioError(PeaksimError):
    """A scenario file that cannot be used."""


def at(path: str, message: str) -> ValueError:
    """A ValueError from a cross-field check that points at `path` instead of the whole model."""
    return ValueError(f"@{path}@ {message}")


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_dotted(text: str) -> tuple:
    parts: list = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _clean_loc(loc: tuple, data: object) -> tuple:
    """Drop pydantic's union-member tags from a location, keeping only keys present in the data."""
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not path_is_tag(part):
            path.append(part)  # a missing or extra key: keep it, there is nothing below
            node = None
    return tuple(path)


def path_is_tag(part: str) -> bool:
    return part in {"int", "float", "str", "list", "dict", "bool"} or "[" in part or part in {
        "exponential", "lognormal", "gamma", "weibull", "deterministic", "empirical",
        "function-before", "function-after", "constrained-float", "constrained-int",
    } or part.startswith(("list[", "function-", "constrained-", "lax-"))


def _field_vocabulary(model: type[BaseModel], seen: set | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for sub in _models_in(field.annotation):
            names |= _field_vocabulary(sub, seen)
    return names


def _models_in(annotation) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models_in(arg)
    meta = getattr(annotation, "__metadata__", None)
    if meta is not None and hasattr(annotation, "__origin__"):
        found += _models_in(annotation.__origin__)
    return found


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_FIXES = {
    "missing": "add this key",
    "int_type": "use a whole number",
    "int_parsing": "use a whole number",
    "int_from_float": "use a whole number",
    "float_type": "use a number",
    "float_parsing": "use a number",
    "bool_type": "use true or false",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
    "finite_number": "use a finite number",
    "list_type": "use a YAML list, e.g. [a, b]",
    "dict_type": "use a mapping of keys",
    "model_type": "use a mapping of keys",
    "too_short": "add entries",
    "too_long": "remove entries",
    "datetime_type": "use an ISO date-time such as 2026-11-23T00:00:00+01:00",
    "datetime_parsing": "use an ISO date-time such as 2026-11-23T00:00:00+01:00",
    "datetime_from_date_parsing": "use an ISO date-time such as 2026-11-23T00:00:00+01:00",
    "literal_error": "use one of the allowed values",
    "union_tag_invalid": "use one of the allowed values",
    "union_tag_not_found": "add `dist:` with one of exponential, lognormal, gamma, weibull, deterministic, empirical",
    "string_type": "use text",
}


def format_validation_error(exc: ValidationError, source: str, lines: dict, model: type[BaseModel],
                            data: object = None) -> list[str]:
    """Turn pydantic's errors into one located, fixable line per problem (deduplicated per field)."""
    vocabulary = _field_vocabulary(model)
    by_path: dict[tuple, list[str]] = {}
    order: list[tuple] = []
    for err in exc.errors(include_url=False):
        msg = str(err.get("msg", ""))
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        loc = tuple(err.get("loc", ()))
        match = AT_PATH.match(msg)
        if match:
            loc, msg = parse_dotted(match.group(1)), match.group(2)
        else:
            loc = _clean_loc(loc, data)
        kind = err.get("type", "")
        value = err.get("input")
        if kind == "extra_forbidden":
            key = loc[-1] if loc else "?"
            guess = difflib.get_close_matches(str(key), vocabulary, n=1, cutoff=0.6)
            fix = f"did you mean `{guess[0]}`?" if guess else "remove it (unknown keys are errors)"
            text = f"unknown key (got {key!r}); {fix}"
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            key = str(ctx.get("discriminator", "dist")).strip("'")
            loc = loc + (key,)
            text = f"unknown value (got {ctx.get('tag')!r}); use one of {ctx.get('expected_tags')}"
        elif kind == "missing":
            text = f"required key is missing; {_FIXES['missing']}"
        else:
            fix = _FIXES.get(kind, "see the scenario reference in the README")
            got = "" if isinstance(value, dict) else f" (got {_short(value)})"
            if "; " in msg or "(got" in msg:
                text = msg
            else:
                text = f"{msg[:1].lower() + msg[1:]}{got}; {fix}"
        if loc not in by_path:
            by_path[loc] = []
            order.append(loc)
        if text not in by_path[loc]:
            by_path[loc].append(text)
    out = []
    for loc in order:
        line = _line_for(loc, lines)
        texts = by_path[loc]
        text = texts[0] if len(texts) == 1 else " | ".join(texts[:3])
        out.append(f"{source}:{line}: {dotted(loc)}: {text}")
    return out


def _line_for(loc: tuple, lines: dict) -> int:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return 1
