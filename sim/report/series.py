"""Lines and confidence bands that break where there is no data.

A channel closed at night has no service level there. Plotly's `fill="tonexty"` between a
lower and an upper trace joins the ends of a gap into a large triangle; here every band is one
closed polygon per contiguous run of data (`fill="toself"`, runs separated by nulls), and every
line breaks at the same places. Per-interval KPIs are drawn as steps over their interval (the
value holds from the interval's start to its end), so an isolated interval still shows.

Durations are plotted in a `TimeUnit` (minutes, hours, days …) chosen for the channel, with the
hover text written out (`5:08 h`); the saved tables stay in seconds. Values are rounded to four
significant digits and steps use Plotly's `hv` shape, so a quarter of horizon at 30-minute
intervals stays a report that opens in seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..readable import TimeUnit, duration
from .safe_labels import esc

HOVER_NUMBER = {"pct": "%{y:.1%}", "n": "%{y:,.1f}", "h": "%{y:,.1f} h", "money": "%{y:,.0f}"}


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the runs of True in `mask`."""
    padded = np.r_[False, np.asarray(mask, dtype=bool), False]
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2], edges[1::2]))


def infer_step(x: pd.Series):
    """The spacing of `x` (an interval length for times), from its most common positive difference."""
    values = pd.Series(pd.unique(x.dropna())).sort_values()
    diffs = values.diff().dropna()
    if pd.api.types.is_timedelta64_dtype(diffs):
        diffs = diffs[diffs > pd.Timedelta(0)]
        return diffs.mode().iloc[0] if not diffs.empty else pd.Timedelta(minutes=30)
    diffs = diffs[diffs > 0]
    return diffs.mode().iloc[0] if not diffs.empty else 1


def _axis_values(values) -> np.ndarray:
    """Times as ISO text (Plotly reads it as a date axis; nulls stay nulls), numbers as floats."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return np.datetime_as_string(array.astype("datetime64[s]"), unit="s").astype(object)
    return array.astype(object)


def _joined(pieces: list[np.ndarray]) -> list:
    """Pieces separated by a null, as one list (the trace's gaps)."""
    out: list = []
    for k, piece in enumerate(pieces):
        if k:
            out.append(None)
        out.extend(piece.tolist())
    return out


def _shift(starts: np.ndarray, step) -> np.ndarray:
    return starts + (np.timedelta64(pd.Timedelta(step)) if np.issubdtype(starts.dtype, np.datetime64) else step)


def _round(values: np.ndarray) -> np.ndarray:
    """Four significant digits: what a chart can show, and a third of the bytes of full floats."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = np.where(values == 0, 0, 3 - np.floor(np.log10(np.abs(np.where(values == 0, 1, values)))))
    return np.array([round(v, int(d)) if np.isfinite(v) else v for v, d in zip(values, digits)], dtype=object)


def step_path(x, y, step) -> tuple[list, list]:
    """Each run of finite `y` for a line drawn with `shape="hv"`: the interval starts, then the end of the
    run's last interval (so it shows too); runs separated by nulls, where the line breaks."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=float)
    xs, ys = [], []
    for a, b in runs(np.isfinite(y)):
        xs.append(_axis_values(np.r_[x[a:b], _shift(x[b - 1:b], step)]))
        ys.append(_round(np.r_[y[a:b], y[b - 1]]))
    return _joined(xs), _joined(ys)


def line_path(x, y) -> tuple[list, list]:
    """Each run of finite `y` as a polyline; runs separated by nulls."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=float)
    pieces = runs(np.isfinite(y))
    return (_joined([_axis_values(x[a:b]) for a, b in pieces]), _joined([_round(y[a:b]) for a, b in pieces]))


def band_path(x, lo, hi, step=None) -> tuple[list, list]:
    """One closed polygon per run where both bounds are finite: the upper edge out, the lower edge back.

    With a `step` the polygon is drawn with `shape="hv"`: the upper edge is the interval starts then
    the run's end; the lower edge walks back pairing each start with the previous interval's bound,
    so every horizontal piece lies over its own interval."""
    x = np.asarray(x)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    xs, ys = [], []
    for a, b in runs(np.isfinite(lo) & np.isfinite(hi)):
        starts = x[a:b]
        if step is not None:
            end = _shift(starts[-1:], step)
            upper_x, upper_y = np.r_[starts, end], np.r_[hi[a:b], hi[b - 1]]
            back_x = np.r_[end, starts[::-1][:-1], starts[:1]]  # end, x_n, …, x_2, x_1
            back_y = np.r_[lo[b - 1], lo[a:b][::-1][1:], lo[a]]  # lo_n, lo_{n-1}, …, lo_1, lo_1
        else:
            upper_x, upper_y = starts, hi[a:b]
            back_x, back_y = starts[::-1], lo[a:b][::-1]
        xs.append(np.r_[_axis_values(upper_x), _axis_values(back_x)])
        ys.append(np.r_[_round(upper_y), _round(back_y)])
    return _joined(xs), _joined(ys)


def rgba(colour: str, alpha: float) -> str:
    value = colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def line_with_band(fig: go.Figure, frame: pd.DataFrame, x: str, y: str, name: str, colour: str, label: str,
                   unit: str, row: int | None = None, col: int | None = None, showlegend: bool = True,
                   dash: str | None = None, shape: str = "linear", mode: str = "lines",
                   time_unit: TimeUnit | None = None, step=None, legendgroup: str | None = None) -> None:
    """`y` (with its 95% band `y_lo`..`y_hi` when present) that breaks wherever the value is missing.

    `shape="hv"` draws per-interval values as steps (`step`: the interval, inferred from `x` when
    not given). `unit="s"` with a `time_unit` plots seconds in that unit and writes the hover text
    out (`12.5 min`, `5:08 h`).
    """

    where = {} if row is None else {"row": row, "col": col}
    group = legendgroup or name
    frame = frame.sort_values(x)
    xs = frame[x].to_numpy()
    scale = time_unit.seconds if (unit == "s" and time_unit is not None) else 1.0
    values = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
    stepped = shape == "hv"
    if stepped and step is None:
        step = infer_step(frame[x])
    if f"{y}_lo" in frame.columns and f"{y}_hi" in frame.columns:
        lo = pd.to_numeric(frame[f"{y}_lo"], errors="coerce").to_numpy(dtype=float) / scale
        hi = pd.to_numeric(frame[f"{y}_hi"], errors="coerce").to_numpy(dtype=float) / scale
        bx, by = band_path(xs, lo, hi, step if stepped else None)
        if bx:
            fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", fill="toself", fillcolor=rgba(colour, 0.18),
                                     line={"width": 0, "shape": "hv" if stepped else "linear"}, hoverinfo="skip",
                                     showlegend=False, legendgroup=group, name=esc(f"{name} 95% CI")), **where)
    px, py = step_path(xs, values / scale, step) if stepped else line_path(xs, values / scale)
    texts = None
    if unit == "s":  # hover text written out (`5:08 h`), aligned with the path's points and gaps
        text = _duration_text(values, time_unit)
        pieces = runs(np.isfinite(values))
        texts = _joined([np.r_[text[a:b], text[b - 1:b]] if stepped else text[a:b] for a, b in pieces])
    x_text = "%{x|%a %d %b %H:%M}" if np.issubdtype(xs.dtype, np.datetime64) else "%{x}"
    fig.add_trace(go.Scatter(
        x=px, y=py, mode="lines" if stepped else mode, name=esc(name), legendgroup=group, showlegend=showlegend,
        line={"color": colour, "width": 2, "dash": dash, "shape": "hv" if stepped else "linear"},
        marker={"color": colour}, customdata=texts,
        hovertemplate=_template(label, name, unit, time_unit, x_text=x_text),
    ), **where)


def _duration_text(values: np.ndarray, unit: TimeUnit | None) -> np.ndarray:
    return np.array([duration(v, unit) for v in values], dtype=object)


def _template(label: str, name: str, unit: str, time_unit: TimeUnit | None, x_text: str) -> str:

    value_text = "%{customdata}" if unit == "s" else HOVER_NUMBER.get(unit, "%{y:,.1f}")
    return f"<b>{esc(name)}</b><br>{x_text}<br>{label}: {value_text}<extra></extra>"
