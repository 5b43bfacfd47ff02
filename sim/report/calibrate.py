"""The calibration report: how well the fitted distributions match last year's tickets.

Candidate fits with their AIC and KS statistics (the chosen one highlighted), handle-time
histograms with the fitted density, QQ plots, Kaplan–Meier patience curves (abandonment is
censored by answering) against the fitted survival, and arrival profiles observed vs fitted.
Every table here was saved by `peaksim calibrate`; file names are in `FILES`, the single place
to adapt if they change.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import unit_for
from ..verdict.calibrate import from_directory as calibrate_verdict
from .common import Page, esc, number, read_meta, read_table, read_text, standard_header, style

HINT = "rerun `peaksim calibrate TICKETS --out DIR` to write it again"
FILES = {"fits": "fits.csv", "qq": "handle_time_qq.csv", "hist": "handle_time_hist.csv",
         "km": "patience_km.csv", "profile": "arrival_profile.csv", "aht_profile": "handle_time_profile.csv",
         "calibration": "calibration.yaml", "origins": "origins.csv", "events": "season_events.csv",
         "behaviour": "behaviour_rates.csv"}
OBSERVED, FITTED = "#57606a", "#D55E00"


def read(directory: Path) -> dict:
    t = lambda key, required, numeric, optional=True: read_table(  # noqa: E731
        directory, FILES[key], HINT, required=required, numeric=numeric, optional=optional)
    return {
        "meta": read_meta(directory, ["calibrate.json", "calibration.json"], HINT),
        "fits": t("fits", ["channel", "quantity", "dist"], ["aic", "ks_stat", "ks_pvalue"], optional=False),
        "qq": t("qq", ["channel", "empirical_s", "fitted_s"], ["empirical_s", "fitted_s"]),
        "hist": t("hist", ["channel", "bin_left_s", "bin_right_s", "density"],
                  ["bin_left_s", "bin_right_s", "density", "fitted_pdf"]),
        "km": t("km", ["channel", "t_s", "km_survival"], ["t_s", "km_survival", "fitted_survival"]),
        "profile": t("profile", ["channel", "weekday", "interval_of_day", "observed_rate_per_hour"],
                     ["interval_of_day", "observed_rate_per_hour", "fitted_rate_per_hour"]),
        "aht_profile": t("aht_profile", ["channel", "interval_of_day", "multiplier"],
                         ["interval_of_day", "n", "mean_handle_time_s", "multiplier"]),
        "calibration": read_text(directory, FILES["calibration"]),
        "origins": t("origins", ["channel", "fresh", "contacts"], ["fresh", "redial", "chaser", "reopen", "bot_bounce",
                                                                  "contacts", "fresh_share"]),
        "events": t("events", ["event", "channel", "multiplier"], ["multiplier", "multiplier_lo", "multiplier_hi",
                                                                   "fresh", "baseline", "days"]),
        "behaviour": t("behaviour", ["behaviour", "parameter", "value", "n"], ["value", "count", "n"]),
    }


def build(directory: Path) -> Page:
    data = read(directory)
    meta = data["meta"]
    page = Page("calibrate", meta, title=str(meta.get("scenario") or meta.get("source") or "calibration"))
    standard_header(page, meta)
    page.verdict(calibrate_verdict(Path(directory)))
    page.warnings(meta.get("warnings") or [])
    fits = data["fits"]
    channels = list(dict.fromkeys(fits["channel"].astype(str)))
    for key in ("hist", "qq", "km", "profile", "aht_profile"):
        if data[key] is not None:
            channels += [c for c in dict.fromkeys(data[key]["channel"].astype(str)) if c not in channels]
    for name in channels:
        page.colours(name)

    page.section("Candidate fits", "Lower AIC is better; the highlighted row per channel and quantity is the "
                 "distribution used in the calibration.")
    chosen = fits["chosen"].astype(str).str.lower().isin(["true", "1"]) if "chosen" in fits.columns else None
    page.table(fits.drop(columns=[c for c in ["chosen"] if c in fits.columns]),
               formats={"ks_pvalue": lambda v: number(v)}, highlight=chosen)
    if data["hist"] is not None and not data["hist"].empty:
        page.section("Handle time")
        page.figure(histogram(data["hist"], page))
    if data["qq"] is not None and not data["qq"].empty:
        page.figure(qq(data["qq"], page))
    if data["aht_profile"] is not None and not data["aht_profile"].empty:
        page.figure(handle_time_by_hour(data["aht_profile"], page))
    if data["km"] is not None and not data["km"].empty:
        page.section("Patience", "Abandonment is only seen for contacts that were not answered first, so the "
                     "empirical curve is the Kaplan–Meier estimate for censored data.")
        page.figure(survival(data["km"], page))
    if data["profile"] is not None and not data["profile"].empty:
        page.section("Arrival profiles")
        page.figure(profiles(data["profile"], page))
    season(page, data)
    if data["calibration"]:
        page.details("Calibration written (calibration.yaml)", data["calibration"])
    return page


def season(page: Page, data: dict) -> None:
    """The learned season (tables saved by calibrate): fresh vs repeat contacts, named events, behaviour."""
    pct = lambda v: "–" if v != v else f"{100 * v:.1f}%"  # noqa: E731
    if data["origins"] is not None and not data["origins"].empty:
        page.section("Fresh demand and repeat contacts", "Arrivals and events are fitted on fresh contacts only; "
                     "repeats (same customer, within the windows in calibration.yaml) become behaviour.")
        page.table(data["origins"], {"fresh_share": pct})
    if data["events"] is not None and not data["events"].empty:
        page.section("Named events", "Multiplier = fresh volume on the event's days ÷ the ordinary-day baseline of "
                     "those weekdays, with its 95% CI; ramps in days.")
        columns = [c for c in ("event", "source", "channel", "first", "last", "days", "fresh", "baseline", "multiplier",
                               "multiplier_lo", "multiplier_hi", "ramp_before", "ramp_after", "own_intraday",
                               "own_reason_mix") if c in data["events"].columns]
        page.table(data["events"][columns])
    if data["behaviour"] is not None and not data["behaviour"].empty:
        page.section("Behaviour rates", "Each rate with the contacts it rests on (n); written into the calibration's "
                     "model inputs when n ≥ 30 (probabilities there are corrected for repeats lost to closed hours).")
        page.table(data["behaviour"].fillna(""), {"value": pct})


def _grid(channels: list[str], title: str, cols: int = 2):
    rows = (len(channels) + cols - 1) // cols
    cols = min(cols, len(channels))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{esc(c)}{title}" for c in channels],
                        vertical_spacing=0.12 if rows > 1 else 0.1, horizontal_spacing=0.08)
    return fig, [(i // cols + 1, i % cols + 1) for i in range(len(channels))], rows


def histogram(hist: pd.DataFrame, page: Page) -> go.Figure:
    channels = list(dict.fromkeys(hist["channel"].astype(str)))
    fig, cells, rows = _grid(channels, ": handle time")
    for (r, c), name in zip(cells, channels):
        frame = hist[hist["channel"].astype(str) == name]
        unit = unit_for(None, frame["bin_right_s"].max())  # minutes or hours rather than thousands of seconds
        u = unit.seconds
        width = (frame["bin_right_s"] - frame["bin_left_s"]) / u
        fig.add_trace(go.Bar(x=frame["bin_left_s"] / u, y=frame["density"] * u, width=width, offset=0, name="observed",
                             legendgroup="observed", showlegend=(r, c) == (1, 1),
                             marker={"color": page.colours(name), "opacity": 0.6, "line": {"width": 0}},
                             customdata=(frame[["bin_right_s"]] / u).to_numpy(),
                             hovertemplate=f"<b>{esc(name)}</b><br>%{{x:,.1f}}–%{{customdata[0]:,.1f}} {unit.symbol}<br>"
                                           f"density: %{{y:.3g}} per {unit.symbol}<extra></extra>"), row=r, col=c)
        if "fitted_pdf" in frame.columns:
            fig.add_trace(go.Scatter(x=frame["bin_left_s"] / u + width / 2, y=frame["fitted_pdf"] * u, mode="lines",
                                     name="fitted pdf", legendgroup="fitted", showlegend=(r, c) == (1, 1),
                                     line={"color": FITTED, "width": 2},
                                     hovertemplate=f"<b>{esc(name)}</b><br>%{{x:,.1f}} {unit.symbol}<br>fitted density: "
                                                   f"%{{y:.3g}} per {unit.symbol}<extra></extra>"), row=r, col=c)
        fig.update_xaxes(title_text=f"handle time ({unit.symbol})", row=r, col=c)
        fig.update_yaxes(title_text=f"density (per {unit.symbol})", row=r, col=c)
    fig.update_layout(bargap=0)
    return style(fig, 320 * rows + 120, "Handle time: histogram and fitted density")


def qq(frame: pd.DataFrame, page: Page) -> go.Figure:
    channels = list(dict.fromkeys(frame["channel"].astype(str)))
    fig, cells, rows = _grid(channels, ": QQ plot")
    for (r, c), name in zip(cells, channels):
        part = frame[frame["channel"].astype(str) == name]
        top = float(max(part["empirical_s"].max(), part["fitted_s"].max()))
        unit = unit_for(None, top)
        u, sym = unit.seconds, unit.symbol
        fig.add_trace(go.Scatter(x=[0, top / u], y=[0, top / u], mode="lines", name="perfect fit", legendgroup="diag",
                                 showlegend=(r, c) == (1, 1), line={"color": "#999999", "dash": "dash"},
                                 hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Scatter(x=part["fitted_s"] / u, y=part["empirical_s"] / u, mode="markers", name=esc(name),
                                 marker={"color": page.colours(name), "size": 6}, showlegend=False,
                                 hovertemplate=f"<b>{esc(name)}</b><br>fitted quantile: %{{x:,.2f}} {sym}<br>"
                                               f"observed quantile: %{{y:,.2f}} {sym}<extra></extra>"), row=r, col=c)
        fig.update_xaxes(title_text=f"fitted quantile ({sym})", row=r, col=c)
        fig.update_yaxes(title_text=f"observed quantile ({sym})", row=r, col=c)
    return style(fig, 320 * rows + 120, "Handle time: observed vs fitted quantiles")


def survival(km: pd.DataFrame, page: Page) -> go.Figure:
    channels = list(dict.fromkeys(km["channel"].astype(str)))
    fig, cells, rows = _grid(channels, ": patience survival")
    for (r, c), name in zip(cells, channels):
        part = km[km["channel"].astype(str) == name]
        unit = unit_for(None, part["t_s"].max())
        u, sym = unit.seconds, unit.symbol
        fig.add_trace(go.Scatter(x=part["t_s"] / u, y=part["km_survival"], mode="lines", name="Kaplan–Meier",
                                 legendgroup="km", showlegend=(r, c) == (1, 1),
                                 line={"color": page.colours(name), "shape": "hv", "width": 2},
                                 hovertemplate=f"<b>{esc(name)}</b><br>%{{x:,.1f}} {sym}<br>still waiting (KM): "
                                               "%{y:.1%}<extra></extra>"), row=r, col=c)
        if "fitted_survival" in part.columns:
            fig.add_trace(go.Scatter(x=part["t_s"] / u, y=part["fitted_survival"], mode="lines", name="fitted",
                                     legendgroup="fitted", showlegend=(r, c) == (1, 1),
                                     line={"color": FITTED, "dash": "dash", "width": 2},
                                     hovertemplate=f"<b>{esc(name)}</b><br>%{{x:,.1f}} {sym}<br>still waiting (fitted): "
                                                   "%{y:.1%}<extra></extra>"), row=r, col=c)
        fig.update_xaxes(title_text=f"time waiting ({sym})", row=r, col=c)
        fig.update_yaxes(title_text="share still waiting", tickformat=".0%", range=[0, 1.02], row=r, col=c)
    return style(fig, 320 * rows + 120, "Patience: Kaplan–Meier vs fitted survival")


def profiles(profile: pd.DataFrame, page: Page) -> go.Figure:
    channels = list(dict.fromkeys(profile["channel"].astype(str)))
    fig = make_subplots(rows=len(channels), cols=1, vertical_spacing=0.22 / max(1, len(channels) - 1) if len(channels) > 1 else 0.1,
                        subplot_titles=[f"{esc(c)}: arrivals per hour" for c in channels])
    for r, name in enumerate(channels, start=1):
        part = profile[profile["channel"].astype(str) == name]
        x = [[esc(d) for d in part["weekday"]], part["interval_of_day"].tolist()]
        fig.add_trace(go.Bar(x=x, y=part["observed_rate_per_hour"], name="observed", legendgroup="observed",
                             showlegend=r == 1, marker={"color": page.colours(name), "opacity": 0.6},
                             hovertemplate=f"<b>{esc(name)}</b><br>%{{x}}<br>observed: %{{y:,.1f}} per hour"
                                           "<extra></extra>"), row=r, col=1)
        if "fitted_rate_per_hour" in part.columns:
            fig.add_trace(go.Scatter(x=x, y=part["fitted_rate_per_hour"], mode="lines", name="fitted",
                                     legendgroup="fitted", showlegend=r == 1, line={"color": FITTED, "width": 2},
                                     hovertemplate=f"<b>{esc(name)}</b><br>%{{x}}<br>fitted: %{{y:,.1f}} per hour"
                                                   "<extra></extra>"), row=r, col=1)
        fig.update_xaxes(title_text="weekday / interval of day", row=r, col=1)
        fig.update_yaxes(title_text="contacts per hour", rangemode="tozero", row=r, col=1)
    fig.update_layout(bargap=0.1)
    return style(fig, 280 * len(channels) + 120, "Arrival profile: observed vs fitted rate")


def handle_time_by_hour(table: pd.DataFrame, page: Page) -> go.Figure:
    """The handle-time multiplier per interval of the day (1 = the channel's mean), with the
    number of handled contacts behind each value: intervals with too few stay at 1."""
    fig = go.Figure()
    for name in dict.fromkeys(table["channel"].astype(str)):
        part = table[table["channel"].astype(str) == name]
        n = part["n"] if "n" in part.columns else pd.Series([float("nan")] * len(part), index=part.index)
        fig.add_trace(go.Scatter(x=part["interval_of_day"], y=part["multiplier"], mode="lines+markers",
                                 name=esc(name), line={"color": page.colours(name), "shape": "hv"},
                                 customdata=n, hovertemplate=f"<b>{esc(name)}</b><br>interval of day %{{x}}"
                                 "<br>multiplier: %{y:.2f}<br>handled contacts: %{customdata:,}<extra></extra>"))
    fig.add_hline(y=1.0, line={"color": OBSERVED, "dash": "dot", "width": 1})
    fig.update_xaxes(title_text="interval of the day (local time)")
    fig.update_yaxes(title_text="handle time ÷ channel mean", rangemode="tozero")
    return style(fig, 360, "Handle time by time of day (handle_time_profile)")
