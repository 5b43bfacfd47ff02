"""Every piece of text Plotly renders, made inert before the figure is written into a report.

Plotly draws titles, axis titles, legend entries, annotations, tick labels and hover labels with
its own subset of HTML: `<a href=…>` becomes a link, `<b>` bold, `<br>` a line break. Channel,
group and reason names reach those places as trace names, categorical axis values (tick and
hover labels), axis titles (`agents <group>` in a sweep) and subplot titles. The report modules
escape the names they format themselves (`esc`, below); this pass is the backstop that catches
every other path: in each text-bearing attribute, `<` and `>` become `&lt;` and `&gt;`, which
Plotly shows as the characters and never parses as tags. Already-escaped text has no `<` or
`>` left, so applying the pass twice changes nothing.

Hover, text and tick *templates* are left alone: peaksim writes them (with `%{y}` placeholders
and `<br>`), and the data they insert is escaped here as trace values.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go


def esc(value: object) -> str:
    """Text from data, safe inside HTML and inside Plotly labels (which render some HTML).

    Quotes and `%` become numeric entities, which both browsers and Plotly decode (Plotly does
    not know `&quot;`), and a name such as `%{y}` cannot act as a hover-template placeholder.
    """
    text = html.escape(str(value), quote=False)
    return text.replace('"', "&#34;").replace("'", "&#39;").replace("%", "&#37;")

TRACE_TEXT = ("name", "legendgroup", "text", "hovertext", "x", "y", "z", "labels", "customdata", "legendgrouptitle")
AXIS_TEXT = ("ticktext",)


def inert(text: str) -> str:
    """`text` with the angle brackets of tags replaced by entities (idempotent)."""
    return text.replace("<", "&lt;").replace(">", "&gt;") if ("<" in text or ">" in text) else text


def _values(value):
    """A trace's array (or scalar) with every text element made inert; None when nothing changes."""
    if isinstance(value, str):
        safe = inert(value)
        return safe if safe != value else None
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
        if array.dtype != object and not np.issubdtype(array.dtype, np.str_):
            return None  # numbers or dates: no text
        flat = array.ravel()
        changed = False
        out = np.empty(flat.shape, dtype=object)
        for i, item in enumerate(flat):
            if isinstance(item, str) and ("<" in item or ">" in item):
                out[i] = inert(item)
                changed = True
            elif isinstance(item, (list, tuple, np.ndarray)):
                inner = _values(item)
                out[i] = item if inner is None else inner
                changed = changed or inner is not None
            else:
                out[i] = item
        return out.reshape(array.shape).tolist() if changed else None
    return None


def _title(obj) -> None:
    title = getattr(obj, "title", None)
    if title is not None and getattr(title, "text", None):
        title.text = inert(title.text)


def safe_figure(fig: go.Figure) -> go.Figure:
    """Make every rendered text of `fig` inert (in place) and return it."""
    for trace in fig.data:
        for attribute in TRACE_TEXT:
            try:
                value = trace[attribute]
            except (KeyError, ValueError, AttributeError):
                continue
            if attribute == "legendgrouptitle":
                if value is not None and getattr(value, "text", None):
                    value.text = inert(value.text)
                continue
            safe = _values(value)
            if safe is not None:
                trace[attribute] = safe
    layout = fig.layout
    _title(layout)
    if layout.legend is not None:
        _title(layout.legend)
    for annotation in layout.annotations or ():
        if annotation.text:
            annotation.text = inert(annotation.text)
    for name in list(layout.to_plotly_json()):
        if name.startswith(("xaxis", "yaxis")) or name in ("coloraxis",):
            axis = layout[name]
            _title(axis)
            for attribute in AXIS_TEXT:
                value = getattr(axis, attribute, None)
                safe = _values(value) if value is not None else None
                if safe is not None:
                    setattr(axis, attribute, safe)
            colorbar = getattr(axis, "colorbar", None)
            if colorbar is not None:
                _title(colorbar)
    for trace in fig.data:
        colorbar = getattr(trace, "colorbar", None) if hasattr(trace, "colorbar") else None
        if colorbar is not None:
            _title(colorbar)
    return fig
