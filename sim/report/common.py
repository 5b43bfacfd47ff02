"""Page assembly shared by every report: reading the saved tables, escaping, colours, cards, figures.

A report is one self-contained HTML file: plotly.js is embedded once in the page head, each
figure is a `<div>` drawn by it, and nothing is fetched from the network, so the file can be
mailed and opened offline. Reports only *plot* the tidy tables a command saved; any number
shown is read from a CSV or JSON file, never recomputed here.

Every piece of text that comes from data (scenario, channel, group names …) is text, never
markup: it goes through `esc` before it reaches the HTML or a Plotly label (Plotly renders a
subset of HTML in titles, legends, hover labels and tick labels).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from .. import __version__
from ..bounded_read import read_limited
from ..errors import PeaksimError
from ..readable import duration
from ..result_files import read_json, read_table  # noqa: F401 (the report modules read through here)
from .safe_labels import esc, safe_figure  # noqa: F401 (esc: every report module escapes through here)
from .series import line_with_band, rgba  # noqa: F401 (gap-aware lines and bands, used by every report)

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#882255",
           "#44AA99", "#332288", "#999999", "#000000"]
OK, BAD, NEUTRAL = "ok", "bad", "neutral"
# how each staffing method is drawn (label, colour, dash), in the staff report and its outcome panels
METHODS = {"sim": ("simulation", "#0072B2", None), "erlang_c": ("Erlang C", "#E69F00", "dash"),
           "erlang_a": ("Erlang A", "#009E73", "dot"), "current": ("current plan", "#8C8C8C", "dashdot")}
FIGURE_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


# --- text ---------------------------------------------------------------------------------
def pct(value: float, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{100 * value:.{digits}f}%"


def secs(value: float, unit=None) -> str:
    """A duration in seconds as a person reads it (`42.0 s`, `12.5 min`, `5:08 h`), never thousands of seconds."""
    return "–" if _missing(value) else duration(value, unit)


def count(value: float) -> str:
    return "–" if _missing(value) else f"{value:,.0f}"


def number(value: float) -> str:
    if _missing(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


# --- reading saved tables ----------------------------------------------------------------
def ci_columns(names: Iterable[str]) -> list[str]:
    """`x` → `x, x_lo, x_hi` for each name."""
    return [f"{n}{suffix}" for n in names for suffix in ("", "_lo", "_hi")]


def read_text(directory: Path, name: str) -> str | None:
    """A text file of the results folder (bounded; None if absent, not a regular file or not UTF-8)."""
    path = Path(directory) / name
    try:
        return read_limited(path, 50_000_000, "results file").decode("utf-8") if path.is_file() else None
    except (PeaksimError, UnicodeDecodeError):
        return None


# --- colours ------------------------------------------------------------------------------
class Colours:
    """One colour per name (channel, group, method …), stable for the whole page."""

    def __init__(self, names: Iterable[str] = (), palette: list[str] = PALETTE):
        self.palette = palette
        self.assigned: dict[str, str] = {}
        for name in names:
            self(name)

    def __call__(self, name: object) -> str:
        key = str(name)
        if key not in self.assigned:
            self.assigned[key] = self.palette[len(self.assigned) % len(self.palette)]
        return self.assigned[key]


# --- figure helpers -----------------------------------------------------------------------
UNITS = {
    "pct": ("%{y:.1%}", ".0%"),
    "s": ("%{y:,.1f} s", None),
    "n": ("%{y:,.1f}", None),
    "h": ("%{y:,.1f} h", None),
    "money": ("%{y:,.0f}", None),
}


def hover(label: str, name: str, unit: str, x_label: str = "%{x}") -> str:
    """A hover template: series name, x, and the value with its unit."""
    return f"<b>{esc(name)}</b><br>{x_label}<br>{label}: {UNITS[unit][0]}<extra></extra>"


def target_line(fig: go.Figure, y: float, colour: str, text: str, row: int | None = None,
                col: int | None = None) -> None:
    """A dashed horizontal target line, labelled once at its right end (one per small multiple, so
    labels of different channels never share a corner)."""
    if _missing(y):
        return
    where = {} if row is None else {"row": row, "col": col}
    fig.add_hline(y=y, line={"color": colour, "dash": "dash", "width": 1.5},
                  annotation_text=text, annotation_position="top right",
                  annotation_font={"color": colour, "size": 11}, annotation_bgcolor="rgba(255,255,255,0.8)",
                  **where)


def style(fig: go.Figure, height: int, title: str | None = None, **layout) -> go.Figure:
    """The common look: white template, readable fonts, title then legend above the plot area."""
    top = 110 if title else 70
    fig.update_layout(
        template="plotly_white", height=height, margin={"l": 80, "r": 30, "t": top, "b": 60},
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 13},
        legend={"orientation": "h", "yref": "container", "y": 1 - (44 if title else 8) / height,
                "yanchor": "top", "xanchor": "left", "x": 0},
        hoverlabel={"namelength": -1},
        title={"text": title, "x": 0.01, "xanchor": "left", "yref": "container", "y": 1 - 10 / height,
               "yanchor": "top"} if title else None,
    )
    if layout:
        fig.update_layout(**layout)
    return fig


# --- page ---------------------------------------------------------------------------------
@dataclass
class Card:
    """A KPI card: `title` (from data: escaped), a big value, a smaller line, and a status colour."""

    title: str
    value: str
    detail: str = ""
    status: str = NEUTRAL
    caption: str = ""


CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 28px; }
header h1 { margin: 0 0 6px 0; font-size: 22px; }
header .kind { color: var(--muted); font-weight: normal; font-size: 15px; margin-left: 8px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 22px; color: var(--muted); font-size: 13px; }
.meta b { color: #1f2328; font-weight: 600; }
.meta code { font-size: 12px; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { margin-top: 18px; }
h2 { font-size: 18px; margin: 18px 0 8px; }
p.note { color: var(--muted); margin: 4px 0 10px; font-size: 14px; max-width: 100ch; }
.warnings { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 10px 16px; margin-top: 16px; }
.warnings h2 { margin: 0 0 6px; font-size: 16px; }
.warnings li { margin: 3px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card-row { margin-bottom: 10px; }
.card-row h3 { margin: 6px 0; font-size: 15px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 170px; }
.card.ok { border-left-color: var(--ok); }
.card.bad { border-left-color: var(--bad); }
.card .title { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 24px; font-weight: 600; }
.card.ok .value { color: var(--ok); }
.card.bad .value { color: var(--bad); }
.card .detail, .card .caption { font-size: 12px; color: var(--muted); }
figure.fig { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 4px; }
table.data { border-collapse: collapse; background: #fff; font-size: 13px; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
table.data th { background: #f6f8fa; }
table.data td.text, table.data th.text { text-align: left; }
table.data tr.chosen td { background: #dafbe1; font-weight: 600; }
details { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; margin-top: 18px; }
details pre { overflow: auto; font-size: 12px; max-height: 600px; }
.verdict { background: #fff; border: 1px solid var(--line); border-left: 8px solid var(--muted); border-radius: 6px; padding: 12px 18px; margin-top: 16px; }
.verdict.ok { border-left-color: var(--ok); }
.verdict.bad { border-left-color: var(--bad); }
.verdict.mixed { border-left-color: #d4a72c; }
.verdict h2 { margin: 0 0 4px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.verdict .headline { font-size: 17px; font-weight: 600; margin: 0 0 6px; max-width: 120ch; }
.verdict ul { margin: 4px 0 0; padding-left: 20px; font-size: 14px; max-width: 140ch; }
.verdict li { margin: 3px 0; }
footer { color: var(--muted); font-size: 12px; padding: 0 28px 24px; }
"""


class Page:
    """An HTML report being assembled: header, warnings, sections of cards, figures and tables."""

    def __init__(self, kind: str, meta: dict | None = None, title: str | None = None):
        self.kind = kind
        self.meta = meta or {}
        self.title = title or str(self.meta.get("scenario") or "peaksim results")
        self.colours = Colours()
        self.parts: list[str] = []
        self.figures = 0
        self.header_items: list[tuple[str, str]] = []

    # header and notices
    def header_item(self, label: str, value: object, code: bool = False) -> None:
        if value is None or value == "":
            return
        text = f"<code>{esc(value)}</code>" if code else esc(value)
        self.header_items.append((label, text))

    def warnings(self, messages: Iterable[object]) -> None:
        # run.json stores warnings as {kind, message, …}; show the planner the message
        items = [m.get("message", m) if isinstance(m, dict) else m for m in messages or []]
        items = [m for m in items if str(m).strip()]
        if items:
            lis = "".join(f"<li>{esc(m)}</li>" for m in items)
            self.parts.append(f'<div class="warnings" role="alert"><h2>⚠ Warnings ({len(items)})</h2><ul>{lis}</ul></div>')

    def verdict(self, verdict) -> None:
        """The answer first: the verdict's sentence and its lines, at the top of the page."""
        items = "".join(f"<li>{esc(line)}</li>" for line in verdict.details)
        self.parts.append(
            f'<section class="verdict {esc(verdict.status)}" id="verdict" data-status="{esc(verdict.status)}">'
            f'<h2>Verdict</h2><p class="headline">{esc(verdict.headline)}</p>'
            + (f"<ul>{items}</ul>" if items else "") + "</section>")

    # content
    def section(self, title: str, note: str | None = None) -> None:
        self.parts.append(f"<h2>{esc(title)}</h2>" + (f'<p class="note">{esc(note)}</p>' if note else ""))

    def note(self, text: str) -> None:
        self.parts.append(f'<p class="note">{esc(text)}</p>')

    def cards(self, cards: list[Card], heading: str | None = None) -> None:
        body = "".join(
            f'<div class="card {c.status}"><div class="title">{esc(c.title)}</div>'
            f'<div class="value">{esc(c.value)}</div>'
            + (f'<div class="detail">{esc(c.detail)}</div>' if c.detail else "")
            + (f'<div class="caption">{esc(c.caption)}</div>' if c.caption else "")
            + "</div>"
            for c in cards
        )
        head = f"<h3>{esc(heading)}</h3>" if heading else ""
        self.parts.append(f'<div class="card-row">{head}<div class="cards">{body}</div></div>')

    def figure(self, fig: go.Figure) -> None:
        """Add a Plotly figure (plotly.js itself is embedded once, in the page head); its text is made
        inert first (`safe_labels`: names from data never render as Plotly markup)."""
        self.figures += 1
        safe_figure(fig)
        div = fig.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG,
                          div_id=f"fig-{self.figures}")
        self.parts.append(f'<figure class="fig" data-figure="{self.figures}">{div}</figure>')

    def table(self, frame: pd.DataFrame, formats: dict[str, object] | None = None,
              highlight: pd.Series | None = None) -> None:
        """A small HTML table; `formats` maps column → function(value) → text."""
        formats = formats or {}
        columns = list(frame.columns)
        text_cols = {c for c in columns if c not in formats and not pd.api.types.is_numeric_dtype(frame[c])}
        head = "".join(f'<th class="{"text" if c in text_cols else ""}">{esc(c)}</th>' for c in columns)
        rows = []
        for i, (_, row) in enumerate(frame.iterrows()):
            cells = []
            for c in columns:
                value = row[c]
                shown = formats[c](value) if c in formats else (value if c in text_cols else number(value))
                cells.append(f'<td class="{"text" if c in text_cols else ""}">{esc(shown)}</td>')
            chosen = highlight is not None and bool(highlight.iloc[i])
            rows.append(f'<tr class="{"chosen" if chosen else ""}">{"".join(cells)}</tr>')
        self.parts.append(f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')

    def details(self, summary: str, text: str) -> None:
        """A collapsible block of preformatted text (e.g. the scenario used)."""
        self.parts.append(f"<details><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>")

    def scenario(self, definition: object) -> None:
        if definition:
            self.details("Scenario used (as validated, JSON)", json.dumps(definition, indent=2, ensure_ascii=False))

    # output
    def html(self) -> str:
        meta = "".join(f"<span>{esc(label)}: <b>{value}</b></span>" for label, value in self.header_items)
        when = dt.datetime.now(dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"generator\" content=\"peaksim {esc(__version__)}\">"
            f"<title>{esc(self.title)} · peaksim {esc(self.kind)} report</title>"
            f"<style>{CSS}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script>"
            "</head>"
            f"<body data-report-kind=\"{esc(self.kind)}\" data-figures=\"{self.figures}\">"
            f"<header><h1>{esc(self.title)}<span class=\"kind\">{esc(self.kind)} report</span></h1>"
            f"<div class=\"meta\">{meta}</div></header>"
            f"<main>{''.join(self.parts)}</main>"
            f"<footer>Made by peaksim {esc(__version__)} on {esc(when)} from the saved tables in this folder; "
            "rebuild with <code>peaksim report DIR</code>.</footer>"
            "</body></html>\n"
        )


def standard_header(page: Page, meta: dict) -> None:
    """Scenario name, seed, replications, version and scenario hash from a run.json-like dict."""
    page.header_item("seed", meta.get("seed"))
    page.header_item("replications", meta.get("replications"))
    page.header_item("peaksim", meta.get("peaksim_version"))
    digest = meta.get("scenario_sha256")
    if digest:
        page.header_item("scenario sha256", str(digest)[:16], code=True)
    if meta.get("contacts_simulated") is not None:
        page.header_item("contacts simulated", count(meta.get("contacts_simulated")))
    if meta.get("wall_seconds") is not None:
        page.header_item("run time", f"{float(meta['wall_seconds']):.1f} s")


def read_meta(directory: Path, names: Iterable[str], hint: str) -> dict:
    """The first of `names` (JSON files with scenario, seed, version …) present, or {} if none is."""
    for name in names:
        data = read_json(directory, name, hint, optional=True)
        if data is not None:
            return data
    return {}


def param_label(column: str) -> str:
    """`param_agents_chat_team` → `agents chat_team` (an axis title)."""
    text = column.removeprefix("param_")
    return text.replace("_", " ", 1) if text.startswith("agents_") else text.replace("_", " ")
