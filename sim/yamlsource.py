"""Read YAML safely and remember where every key sits, so errors can name the line.

Only the safe loader is used (no Python objects from tags); libyaml's C parser when PyYAML has it
(ten times faster on long lists), the pure-Python one otherwise. Sizes are bounded before they
cost anything: the file is read through a bounded reader (a FIFO or `/dev/zero` is refused, not
read), and the number of values after YAML aliases are expanded is counted on the parsed nodes
before any Python object is built (a few lines of `&a`/`*a` can otherwise describe billions of
values). The text is parsed once: line numbers and data come from the same node tree.

A date YAML cannot hold (`2026-02-30`, month 13, written unquoted) is kept as text, so the
schema that reads the field reports it with its file, line and field, like any other bad value.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

from .bounded_read import read_limited
from .errors import ScenarioError

MAX_FILE_BYTES = 20_000_000
MAX_NODES = 2_000_000  # values in the file after aliases are expanded
MAX_DEPTH = 64  # levels of nesting; a scenario needs about six. Our own guard: libyaml's differs by version
SYNTAX_FIX = "check indentation, colons and quotes on this line or the one before"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (C if available), with impossible dates kept as text for validation to locate."""


def _timestamp(loader, node):
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):  # 2026-02-30, month 13, year 0: a value for the schema to refuse
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _too_many(source: str, root: yaml.Node) -> ScenarioError:
    return ScenarioError([f"{source}:{root.start_mark.line + 1}: (top level): the file expands to more than "
                          f"{MAX_NODES:,} values (got YAML aliases or a very large file); "
                          "write the values out or shorten the file"])


def _check_size(root: yaml.Node, source: str) -> None:
    """Count values as if aliases were copied (memoised per node, so a bomb is counted cheaply).

    Scalars count 1 and are never put on the stack, so a long list of numbers costs one pass.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            size = 1
            for child in children:
                size += sizes.get(id(child), 1)  # scalars are not memoised: they count 1
            sizes[key] = size
            if size > MAX_NODES:
                raise _too_many(source, root)
            continue
        if key in open_nodes:
            raise ScenarioError([f"{source}:{node.start_mark.line + 1}: (top level): a YAML alias refers to "
                                 "itself (got a recursive `&anchor` … `*anchor`); write the values out"])
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if not isinstance(c, yaml.ScalarNode) and id(c) not in sizes)


class LineMap(dict):
    """Key path → line. Items of long lists of plain values are kept as one compact array per list
    (a million-value empirical list would otherwise cost a million tuple keys)."""

    def __init__(self):
        super().__init__()
        self.long_lists: dict[tuple, array] = {}

    def _item_line(self, key):
        if key and isinstance(key[-1], int) and not isinstance(key[-1], bool):
            items = self.long_lists.get(key[:-1])
            if items is not None and 0 <= key[-1] < len(items):
                return items[key[-1]]
        return None

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or self._item_line(key) is not None

    def __getitem__(self, key):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        line = self._item_line(key)
        if line is None:
            raise KeyError(key)
        return line

    def get(self, key, default=None):
        return self[key] if key in self else default


LONG_LIST = 1000  # lists with more plain values than this keep their lines in an array


def _walk(root: yaml.Node, lines: dict, source: str) -> None:
    """Record the line of every key path (iteratively: deep files must not overflow the stack)."""
    stack = [(root, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise _too_many(source, root)
        if len(path) > MAX_DEPTH:
            raise _too_deep(source)
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
            items = node.value
            scalars = all(isinstance(item, yaml.ScalarNode) for item in items)
            if scalars and len(items) > LONG_LIST and isinstance(lines, LineMap):
                visited += len(items)
                lines.long_lists.setdefault(path, array("i", (item.start_mark.line + 1 for item in items)))
                continue
            for i, item in enumerate(items):
                if isinstance(item, yaml.ScalarNode):  # `skills: [voice, chat]`: find `skills.chat` too
                    visited += 1
                    lines.setdefault(path + (i,), item.start_mark.line + 1)
                    lines.setdefault(path + (item.value,), item.start_mark.line + 1)
                else:
                    stack.append((item, path + (i,)))


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_text(text: str, line: int) -> str:
    rows = text.splitlines()
    snippet = rows[line - 1].strip() if 0 < line <= len(rows) else ""
    return repr(snippet if len(snippet) <= 60 else snippet[:57] + "...") if snippet else "an empty line"


def _too_deep(source: str) -> ScenarioError:
    return ScenarioError([f"{source}:1: (top level): the YAML is nested too deeply (got more than {MAX_DEPTH} "
                          "levels); a scenario needs only a few levels, check the brackets"])


def load_yaml_with_lines(path: Path, what: str = "scenario file") -> tuple[object, dict]:
    """Parse `path` with the safe loader; return the data and a map from key path to line."""
    source = str(path)
    raw = read_limited(path, MAX_FILE_BYTES, what, error=lambda message: ScenarioError([message]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([f"{source}:{line}: (encoding): not UTF-8 text (got byte 0x{raw[exc.start]:02x}); "
                             "save the file as UTF-8"]) from None
    if not text.strip() or all(not row.strip() or row.lstrip().startswith("#") for row in text.splitlines()):
        raise ScenarioError([f"{source}:1: (top level): the file is empty (got {len(raw)} bytes, no keys); "
                             "start from a file in scenarios/"])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines = LineMap()
        if node is not None:
            _check_size(node, source)
            _walk(node, lines, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's own guard against deep nesting
            raise _too_deep(source) from None
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError([f"{source}:{line}: YAML syntax error: {problem} (got {_line_text(text, line)}); "
                             f"{SYNTAX_FIX}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1: YAML syntax error: {str(exc).splitlines()[0]} (got unreadable YAML); "
                             f"{SYNTAX_FIX}"]) from None
    except RecursionError:
        raise _too_deep(source) from None
    finally:
        loader.dispose()
    return data, lines
