"""Read YAML safely and remember where every key sits, so errors can name the line.

Only the safe loader is used (no Python objects from tags). Sizes are bounded: the file's bytes,
and the number of values after YAML aliases are expanded (a few lines of `&a`/`*a` can otherwise
describe billions of values), so a hostile or broken file gets a clear message, not an exhausted
machine.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ScenarioError

MAX_FILE_BYTES = 20_000_000
MAX_NODES = 2_000_000  # values in the file after aliases are expanded
SYNTAX_FIX = "check indentation, colons and quotes on this line or the one before"


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_size(root: yaml.Node, source: str) -> None:
    """Count values as if aliases were copied (memoised per node, so a bomb is counted cheaply)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                raise ScenarioError([f"{source}:{root.start_mark.line + 1}: (top level): the file expands to more "
                                     f"than {MAX_NODES:,} values (got YAML aliases or a very large file); "
                                     "write the values out or shorten the file"])
            continue
        if key in open_nodes:
            raise ScenarioError([f"{source}:{node.start_mark.line + 1}: (top level): a YAML alias refers to "
                                 "itself (got a recursive `&anchor` … `*anchor`); write the values out"])
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _walk(root: yaml.Node, lines: dict, source: str) -> None:
    """Record the line of every key path (iteratively: deep files must not overflow the stack)."""
    stack = [(root, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise ScenarioError([f"{source}:{root.start_mark.line + 1}: (top level): the file expands to more than "
                                 f"{MAX_NODES:,} values (got YAML aliases or a very large file); "
                                 "write the values out or shorten the file"])
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
                if key in seen:
                    raise ScenarioError([
                        f"{source}:{key_node.start_mark.line + 1}: {_dotted(path + (key,))}: "
                        f"key appears twice in the same mapping (got {key!r}); keep one of them"
                    ])
                seen.add(key)
                lines.setdefault(path + (key,), key_node.start_mark.line + 1)
                stack.append((value_node, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, path + (i,)))
                if isinstance(item, yaml.ScalarNode):  # `skills: [voice, chat]`: find `skills.chat` too
                    lines.setdefault(path + (item.value,), item.start_mark.line + 1)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_text(text: str, line: int) -> str:
    rows = text.splitlines()
    snippet = rows[line - 1].strip() if 0 < line <= len(rows) else ""
    return repr(snippet if len(snippet) <= 60 else snippet[:57] + "...") if snippet else "an empty line"


def load_yaml_with_lines(path: Path) -> tuple[object, dict]:
    """Parse `path` with the safe loader; return the data and a map from key path to line."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([f"{source}: file not found (got no file at this path); check the path"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{source}: not a file (got a directory); give the scenario's .yaml file"]) from None
    except OSError as exc:
        raise ScenarioError([f"{source}: cannot read the file (got {exc.strerror}); check the path and permissions"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"{source}: file too large (got {len(raw):,} bytes, limit {MAX_FILE_BYTES:,}); "
                             "is this really a scenario file?"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([f"{source}:{line}: (encoding): not UTF-8 text (got byte 0x{raw[exc.start]:02x}); "
                             "save the file as UTF-8"]) from None
    if not text.strip() or all(not row.strip() or row.lstrip().startswith("#") for row in text.splitlines()):
        raise ScenarioError([f"{source}:1: (top level): the file is empty (got {len(raw)} bytes, no keys); "
                             "start from a file in scenarios/"])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError([f"{source}:{line}: YAML syntax error: {problem} (got {_line_text(text, line)}); "
                             f"{SYNTAX_FIX}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1: YAML syntax error: {str(exc).splitlines()[0]} (got unreadable YAML); "
                             f"{SYNTAX_FIX}"]) from None
    except RecursionError:
        raise ScenarioError([f"{source}:1: (top level): the YAML is nested too deeply (got more levels than "
                             "Python can read); a scenario needs only a few levels, check the brackets"]) from None
    lines: dict = {}
    if node is not None:
        _check_size(node, source)
        _walk(node, lines, source)
    return data, lines
