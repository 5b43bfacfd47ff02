"""Read YAML safely and remember where every key sits, so errors can name the line."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ScenarioError

MAX_FILE_BYTES = 20_000_000


def _walk(node: yaml.Node, path: tuple, lines: dict, source: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise ScenarioError([
                    f"{source}:{key_node.start_mark.line + 1}: {_dotted(path + (key,))}: "
                    f"key appears twice in the same mapping (got {key!r}); keep one of them"
                ])
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines, source)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_yaml_with_lines(path: Path) -> tuple[object, dict]:
    """Parse `path` with the safe loader; return the data and a map from key path to line."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([f"{source}: file not found; check the path"]) from None
    except OSError as exc:
        raise ScenarioError([f"{source}: cannot read the file ({exc.strerror}); check the path and permissions"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"{source}: file is {len(raw):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; "
                             "is this really a scenario file?"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError([f"{source}:{line}: YAML syntax error: {problem}; check indentation, colons and quotes"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}: YAML error: {exc}; check the file's syntax"]) from None
    lines: dict = {}
    if node is not None:
        _walk(node, (), lines, source)
    return data, lines
