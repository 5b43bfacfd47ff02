"""The scenario reference, generated from the pydantic schema so the documentation cannot drift.

`scenario_reference_markdown()` walks `Scenario.model_json_schema()`: one markdown table per
model (the top level first, then each nested model in the order it is first referenced), one
row per key with its type, whether it is required, its default and its description. Nothing
is hand-listed, so keys added to the models appear here on the next run.

    python -m sim.schema_doc            # print the reference
    python -m sim.schema_doc --write    # update docs/scenario-reference.md

Durations and clock times are shown as what a planner writes (`duration`, `30min`; `clock
time`, `24:00`), not as the patterns and second counts the JSON Schema holds. The README links
here rather than repeating the reference (a README that still has the old
`scenario-reference` markers gets the section rewritten, so older checkouts stay consistent).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

START = "<!-- scenario-reference:start -->"
END = "<!-- scenario-reference:end -->"
ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = [  # schema key → how it reads; pydantic writes gt/ge/lt/le for constraints it can't map
    ("minimum", "≥ {}"), ("ge", "≥ {}"), ("exclusiveMinimum", "> {}"), ("gt", "> {}"),
    ("maximum", "≤ {}"), ("le", "≤ {}"), ("exclusiveMaximum", "< {}"), ("lt", "< {}"),
    ("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
    ("minItems", "at least {} entries"), ("maxItems", "at most {} entries"),
    ("minProperties", "at least {} entries"), ("pattern", "matching `{}`"),
]
SINGULAR = {"at least 1 characters": "not empty", "at least 1 entries": "at least one entry"}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", name.lower().replace(" ", "-"))


def _number(value) -> str:
    return f"{value:,}".replace(",", " ") if isinstance(value, int) and abs(value) >= 10_000 else f"{value:g}" \
        if isinstance(value, float) else str(value)


def value_kind(node: dict) -> str | None:
    """`duration` or `clock` when a node is one of the scenario's time types (recognised by their patterns)."""
    from .distributions import DURATION_SCHEMA
    from .scenario import ClockTime

    duration = DURATION_SCHEMA.json_schema["anyOf"][1]["pattern"]
    clock = next(m for m in ClockTime.__metadata__ if hasattr(m, "json_schema")).json_schema["pattern"]
    options = node.get("anyOf", [node])
    patterns = {o.get("pattern") for o in options if isinstance(o, dict)}
    if duration in patterns:
        return "duration"
    if clock in patterns:
        return "clock"
    return None


def type_text(node: dict) -> str:
    """How a schema node reads in the table: `number ≥ 0`, `list of [Shift](#shift)`, `one of …`."""
    kind = value_kind(node)
    if kind == "duration":
        return "duration (`20s`, `3min`, `1.5h`, `2d` or seconds)"
    if kind == "clock":
        return "clock time (`HH:MM`; `24:00` is midnight at the end of the day)"
    if "anyOf" in node and any(value_kind(o) == "duration" for o in node["anyOf"] if isinstance(o, dict)):
        return "duration (`20s`, `3min`, `1.5h`, `2d` or seconds)"
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key in ("oneOf", "anyOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            texts = [type_text(o) for o in options]
            text = " or ".join(dict.fromkeys(texts))
            if "discriminator" in node:
                text = f"one of {', '.join(texts)} (chosen by `{node['discriminator'].get('propertyName')}`)"
            return text or "null"
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(type_text({**node, "type": k}) for k in kind if k != "null")
    if kind == "array":
        text = f"list of {type_text(node.get('items', {}))}"
    elif kind == "object":
        inner = node.get("additionalProperties")
        text = f"mapping of name → {type_text(inner)}" if isinstance(inner, dict) else "mapping"
    elif kind == "string" and node.get("format") == "date-time":
        text = "date-time (ISO 8601, with offset)"
    elif kind == "string" and node.get("format") == "date":
        text = "date (`2026-11-27`)"
    elif kind:
        text = {"number": "number", "integer": "whole number", "string": "text", "boolean": "true/false"}.get(kind, kind)
    else:
        text = "any"
    limits = [template.format(_number(node[key])) for key, template in CONSTRAINTS if key in node]
    limits = [SINGULAR.get(limit, limit) for limit in limits]
    return f"{text} ({', '.join(limits)})" if limits else text


def _default(prop: dict) -> str:
    """The default as a planner would write it: `30min`, `00:00`, `24:00`, `0.8`, none."""
    from .units import format_clock, format_duration

    if "default" not in prop:
        return ""
    value = prop["default"]
    if value is None:
        return "none"
    kind = value_kind(prop)
    if kind == "duration" and isinstance(value, (int, float)):
        return f"`{format_duration(float(value))}`"
    if kind == "clock" and isinstance(value, (int, float)):
        return f"`{format_clock(int(value))}`"
    if isinstance(value, str):
        return f"`{value}`"
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _refs(node) -> list[str]:
    """Model names referenced anywhere under `node`, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        if "$ref" in node:
            found.append(_ref_name(node["$ref"]))
        for key, value in node.items():
            if key != "discriminator":
                found += _refs(value)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value)
    return found


def _order(schema: dict) -> list[str]:
    """Nested models breadth-first from the top level, then any not reachable (none, normally)."""
    defs = schema.get("$defs", {})
    order: list[str] = []
    queue = _refs(schema.get("properties", {}))
    while queue:
        name = queue.pop(0)
        if name in order or name not in defs:
            continue
        order.append(name)
        queue += _refs(defs[name].get("properties", {}))
    return order + [n for n in defs if n not in order]


def _table(title: str, node: dict) -> list[str]:
    lines = [f"### {title}", ""]
    if node.get("description"):
        lines += [_cell(node["description"]), ""]
    properties = node.get("properties", {})
    if not properties:
        lines += [f"Type: {type_text(node)}", ""]
        return lines
    required = set(node.get("required", []))
    lines += ["| key | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
    for key, prop in properties.items():
        lines.append(f"| `{key}` | {_cell(type_text(prop))} | {'yes' if key in required else ''} | "
                     f"{_cell(_default(prop))} | {_cell(prop.get('description', ''))} |")
    if node.get("additionalProperties") is False:
        lines += ["", "Other keys are errors."]
    return lines + [""]


def scenario_reference_markdown(model=None) -> str:
    """The scenario file reference as markdown (one table per model), generated from the schema."""
    if model is None:
        from .scenario import Scenario as model
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    lines = [
        "## Scenario reference",
        "",
        "Generated from the scenario schema by `python -m sim.schema_doc --write`; do not edit by hand. "
        "`peaksim schema` prints the same schema as JSON Schema for editors. Durations accept `20s`, `3min`, "
        "`1.5h`, `2d` or plain seconds; clock times accept `HH:MM`; shares are fractions (`0.8` means 80%).",
        "",
    ]
    lines += _table(f"Scenario file ({schema.get('title', 'top level')})", schema)
    for name in _order(schema):
        lines += _table(name, defs[name])
    return "\n".join(lines).rstrip() + "\n"


def readme_section(text: str | None = None) -> str:
    """The reference wrapped in the README markers."""
    return f"{START}\n{text or scenario_reference_markdown()}{END}"


def extract_readme_section(readme: str) -> str | None:
    """The text between the markers in `readme` (markers included), or None if they are missing."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme[start:end + len(END)]


def write(root: Path = ROOT) -> list[Path]:
    """Update docs/scenario-reference.md (and a README section, only if the README still has the markers)."""
    text = scenario_reference_markdown()
    written = []
    doc = root / "docs" / "scenario-reference.md"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    written.append(doc)
    readme = root / "README.md"
    if readme.is_file():
        current = readme.read_text(encoding="utf-8")
        old = extract_readme_section(current)
        if old is not None:
            readme.write_text(current.replace(old, readme_section(text)), encoding="utf-8")
            written.append(readme)
    return written


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        for path in write():
            print(f"wrote {path}")
    else:
        sys.stdout.write(scenario_reference_markdown())
