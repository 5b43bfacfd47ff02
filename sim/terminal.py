"""Printing user text to a terminal literally: no rich markup, no escape sequences, one line each.

Scenario, channel, group and reason names, file names and ticket values are printed in tables
and status lines. Through rich, `[/bold]` in a name is parsed as markup (and crashes on a
closing tag that opens nothing), `[link=…]` becomes a hyperlink, and an ESC, CSI or OSC sequence
in a name reaches the terminal raw (recolouring it, retitling the window, hiding text). So:

* `SafeConsole` never parses markup, emoji codes or highlighting in any string it renders (plain
  strings in `print`, table titles and cells), and writes control characters visibly escaped
  (`\\x1b`), as `sim.errors.one_line` does for error messages;
* `styled(text, style)` is the way to colour a piece of user text: a `rich.text.Text` built
  from the escaped string, styled by peaksim, never by the text.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from .errors import one_line


def plain(value: object) -> str:
    """`value` as printable text: control, escape and bidirectional-override characters escaped."""
    return one_line(str(value))


def styled(value: object, style: str = "") -> Text:
    """User text with a style chosen by peaksim (e.g. green for a met target)."""
    return Text(plain(value), style=style)


class SafeConsole(Console):
    """A rich Console that renders every string literally (no markup, emoji or highlighting) and escaped."""

    def __init__(self, **options):
        options.setdefault("markup", False)
        options.setdefault("emoji", False)
        options.setdefault("highlight", False)
        super().__init__(**options)

    def render_str(self, text: str, *, style="", justify=None, overflow=None, emoji=None, markup=None,
                   highlight=None, highlighter=None) -> Text:
        return super().render_str(plain(text), style=style, justify=justify, overflow=overflow, emoji=False,
                                  markup=False, highlight=False, highlighter=highlighter)
