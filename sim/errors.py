"""User-facing errors: one line each, `FILE:LINE: path.to.field: what is wrong (got VALUE); how to fix`.

Every command catches `PeaksimError`, prints its lines and exits with status 2: bad input is
the planner's to fix, so they get a pointer into their file rather than a traceback.
"""

from __future__ import annotations

import difflib
import re

from pydantic import BaseModel, ValidationError

AT_PATH = re.compile(r"^@([^@]+)@\s*(.*)$", re.S)


# what splits or garbles a line: C0 and C1 controls (ESC, CSI …), line separators, bidi overrides
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """`text` with line breaks and control characters (e.g. from a YAML key) written as escapes."""
    return _LINE_BREAKING.sub(lambda m: repr(m.group())[1:-1], text)


class PeaksimError(Exception):
    """An input problem the user can fix; `lines` are printed as they are, each kept to one line."""

    def __init__(self, lines: list[str] | str):
        self.lines = [one_line(line) for line in ([lines] if isinstance(lines, str) else list(lines))]
        super().__init__("\n".join(self.lines))


class ScenarioError(PeaksimError):
    """A scenario file that cannot be used."""


def at(path: str, message: str) -> ValueError:
    """A ValueError from a cross-field check that points at `path` instead of the whole model.

    `path` is from the top of the file (`agents[0].headcount`) or, starting with a dot, relative
    to the model being validated (`.shrinkage` inside an agent group's validator).
    """
    return ValueError(f"@{path}@ {message}")


def _at_path(text: str, raw_loc: tuple, data: object) -> tuple:
    if text.startswith("."):
        return _clean_loc(raw_loc, data) + parse_dotted(text[1:])
    return parse_dotted(text)


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _odd_key(part):  # a blank key or one with tabs or line breaks: shown quoted and escaped
            out += "[" + repr(part).replace(" ", "\\x20") + "]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _odd_key(key) -> bool:
    """Keys no planner means as a name: empty, padded with or holding whitespace other than single spaces."""
    text = str(key)
    return text != text.strip() or not text or any((c.isspace() and c != " ") or not c.isprintable() for c in text)


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
    "string_too_short": "write a non-empty text",
    "string_too_long": "shorten the text",
    "enum": "use one of the allowed values",
    "value_error": "see the scenario reference (peaksim schema)",
}


def _member_kind(part: str) -> str:
    if part == "list" or part.startswith("list["):
        return "list"
    if part == "dict" or part.startswith("dict["):
        return "dict"
    return "scalar"


def _value_kind(value: object) -> str:
    return "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else "scalar"


def _at(data: object, path: tuple) -> object:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _union_member(loc: tuple, data: object) -> tuple[tuple, str] | None:
    """(path of the union, member kind) when pydantic tried several members of a union."""
    for i, part in enumerate(loc):
        if isinstance(part, str) and path_is_tag(part) and not isinstance(_at(data, loc[:i]), dict):
            return _clean_loc(loc[:i], data), _member_kind(part)
        if isinstance(part, str) and path_is_tag(part):
            return None
    return None


def describe(value: object) -> str:
    """A short, readable rendering of an input value for `(got ...)`."""
    if isinstance(value, dict):
        if not value:
            return "an empty mapping"
        keys = ", ".join(map(str, list(value)[:6])) + (", …" if len(value) > 6 else "")
        return f"a mapping with keys {keys}"
    if isinstance(value, list) and len(value) > 8:
        return f"a list of {len(value)} values"
    if value is None:
        return "nothing (null)"
    return _short(value)


_BOUNDS = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
_BOUND_CTX = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _looks_like_percent(kind: str, limit: object, value: object) -> bool:
    """A value above a share's upper bound of 1 that reads as a percentage (`target: 80`)."""
    return (kind in ("less_than_equal", "less_than") and isinstance(limit, (int, float)) and limit == 1
            and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 < value <= 100)


def _message(err: dict, loc: tuple, vocabulary: set) -> str:
    """`what is wrong (got VALUE); how to fix` for one pydantic error."""
    kind = err.get("type", "")
    value = err.get("input")
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", ""))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    match = AT_PATH.match(msg)
    if match:
        msg = match.group(2)
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        guess = difflib.get_close_matches(str(key), vocabulary, n=1, cutoff=0.6)
        fix = f"did you mean `{guess[0]}`?" if guess else "remove it (unknown keys are errors)"
        return f"unknown key (got {key!r}); {fix}"
    if kind == "union_tag_invalid":
        return f"unknown value (got {ctx.get('tag')!r}); use one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"a distribution needs a `dist` key (got {describe(value)}); {_FIXES[kind]}"
    if kind == "missing":
        return f"required key is missing (got no {str(loc[-1]) if loc else 'value'!r}); {_FIXES['missing']}"
    if kind in _BOUNDS:
        limit = ctx.get(_BOUND_CTX[kind])
        if _looks_like_percent(kind, limit, value):
            return (f"must be {_BOUNDS[kind]} {limit:g} (got {describe(value)}); this is a share, not a percentage "
                    f"({value / 100:g} means {value:g}%): write {value / 100:g}")
        limit = f"{limit:g}" if isinstance(limit, float) else f"{limit}"
        return f"must be {_BOUNDS[kind]} {limit} (got {describe(value)}); use a value {_BOUNDS[kind]} {limit}"
    what, sep, fix = msg.partition("; ")
    what = what[:1].lower() + what[1:]
    what = re.sub(r"^input should be ", "must be ", what)
    if "(got" not in what:
        what += f" (got {describe(value)})"
    what = re.sub(r"^(?:list|dictionary) should have (at least|at most) (\d+) items? after validation, not \d+",
                  lambda m: f"needs {m[1]} {m[2]} entr{'y' if m[2] == '1' else 'ies'}", what)
    what = re.sub(r"^string should have at least 1 character", "must not be empty", what)
    if not sep or not fix.strip():
        fix = _FIXES.get(kind, "see the scenario reference (peaksim schema)")
    return f"{what}; {fix}"


def format_validation_error(exc: ValidationError, source: str, lines: dict, model: type[BaseModel],
                            data: object = None) -> list[str]:
    """Turn pydantic's errors into one located, fixable line per problem (deduplicated per field).

    When a value may be one of several types (a number or a list of numbers), only the errors of
    the member that matches what the file holds are kept: a list with one negative entry gets
    "rate_per_hour[47]: must be ≥ 0", not also "must be a valid number".
    """
    vocabulary = _field_vocabulary(model)
    records = []
    for err in exc.errors(include_url=False):
        raw_loc = tuple(err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        match = AT_PATH.match(msg)
        loc = _at_path(match.group(1), raw_loc, data) if match else _clean_loc(raw_loc, data)
        if err.get("type") == "union_tag_invalid":
            key = str((err.get("ctx") or {}).get("discriminator", "dist")).strip("'")
            loc = loc + (key,)
        member = None if match else _union_member(raw_loc, data)
        records.append((loc, member, _message(err, loc, vocabulary)))
    matching = {m[0] for _, m, _ in records if m is not None and m[1] == _value_kind(_at(data, m[0]))}
    by_path: dict[tuple, list[str]] = {}
    order: list[tuple] = []
    for loc, member, text in records:
        if member is not None and member[0] in matching and member[1] != _value_kind(_at(data, member[0])):
            continue  # an error from a union member that does not match the value's shape
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
