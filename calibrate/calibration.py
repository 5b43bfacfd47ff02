"""Run every fit on loaded tickets and write the result as a calibration YAML plus diagnostic CSVs.

A :class:`Calibration` is what a scenario is built from, so it carries its provenance (files and
their hashes, rows read / used / dropped by reason, date range) next to the parameters: a planner
asking "where does AHT 190 s come from?" can trace it to a file and a fit table. Fits that could not
be made (too little data) are listed under ``skipped`` rather than silently missing.

Per channel (and per reason with at least ``min_n`` values) it fits, where the columns allow:
``handle_time`` (``handle_time_s``), ``patience`` (censored, from queue waits, only when the data
has abandonments) and ``resolution_time`` (``resolved_at − created_at``, for async channels); plus
the arrival profile, reason shares and behaviour rates. The YAML holds parameters and fit tables;
the diagnostics (tidy tables with a ``channel`` column) are for the report, which only plots.
"""
from __future__ import annotations

import math
from importlib import metadata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.csv_safety import to_csv_text
from sim.outputs import atomic_write
from calibrate.fit import FitError, fit_duration, fit_patience
from calibrate.behaviour_fits import patience_profile
from calibrate.profiles import (ArrivalProfile, arrival_profile, behaviour_rates, daily_counts, handle_time_profile,
                                infer_staffing)
from calibrate.schema import TicketData

__all__ = ["Calibration", "calibrate"]

_TABLE_COLUMNS = ["candidate", "dist", "k", "loglik", "aic", "delta_aic", "ks_stat", "ks_pvalue",
                  "km_max_abs_diff", "shape", "scale", "mean", "sd"]


@dataclass(frozen=True, eq=False)
class Calibration:
    """Fitted parameters (``channels``), fit tables (``fits``), ``provenance``, ``skipped`` fits,
    tidy ``diagnostics`` tables, the fit objects themselves in ``results[channel][quantity]``
    (reason-level ones under ``"<reason>/<quantity>"``, behaviour under ``"behaviour"``) and the
    arrival ``profile``."""

    provenance: dict
    channels: dict
    fits: dict
    skipped: list
    diagnostics: dict = field(repr=False)
    results: dict = field(repr=False)
    profile: ArrivalProfile = field(repr=False)
    model: dict = field(default_factory=dict, repr=False)
    season: dict = field(default_factory=dict, repr=False)
    satisfaction: dict | None = None  # the fitted `satisfaction:` block (calibrate/csat.py), if the export has csat

    def to_dict(self) -> dict:
        out = {"provenance": self.provenance, "channels": self.channels, "fits": self.fits, "skipped": self.skipped}
        if self.model:
            out.update({"model": self.model, "season": self.season})
        if self.satisfaction is not None:
            out["satisfaction"] = self.satisfaction
        return _plain(out)

    def to_yaml(self, path) -> Path:
        """Write the calibration YAML atomically (temp file + ``os.replace``); returns the path."""
        text = "# peaksim calibration: generated from ticket data; see provenance\n"
        text += yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        return _atomic_write(Path(path), text)

    def write_diagnostics(self, directory) -> list:
        """Write each diagnostics table as ``<directory>/<name>.csv``; returns the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [_atomic_write(directory / f"{name}.csv", to_csv_text(frame))
                for name, frame in self.diagnostics.items()]


class _Dumper(yaml.SafeDumper):
    """Leaf mappings and lists of numbers on one line (``{dist: gamma, mean: 187.9, sd: 179.8}``),
    so a distribution or a fit-table row reads as one line and the file stays diffable."""

    def represent_dict(self, data):
        leaf = all(not isinstance(v, (dict, list)) for v in data.values())
        return self.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=leaf and bool(data))

    def represent_list(self, data):
        leaf = all(not isinstance(v, (dict, list)) for v in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=leaf and bool(data))


_Dumper.add_representer(dict, _Dumper.represent_dict)
_Dumper.add_representer(list, _Dumper.represent_list)


def _atomic_write(path: Path, text: str) -> Path:
    atomic_write(path, text)
    return path


def _plain(obj):
    """numpy/pandas scalars → Python, floats to 6 significant digits, NaN → None (YAML-safe)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(obj) else float(f"{float(obj):.6g}")
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    return obj if isinstance(obj, str) else str(obj)


def _table_rows(table: pd.DataFrame) -> list:
    cols = [c for c in _TABLE_COLUMNS if c in table.columns]
    return table[cols].to_dict("records")


def _waits(sub: pd.DataFrame):
    """Queue waits and outcomes of offered contacts whose outcome is known."""
    end = sub["answered_at"].fillna(sub["abandoned_at"])
    ok = sub["queued_at"].notna() & end.notna()
    wait = (end[ok] - sub.loc[ok, "queued_at"]).dt.total_seconds().to_numpy()
    return wait, sub.loc[ok, "abandoned_at"].notna().to_numpy()


class _Fitter:
    """Runs the per-subset fits and collects parameters, tables, diagnostics and skips."""

    def __init__(self, min_n, duration_candidates, patience_candidates, has_abandonment, max_fit_n=None):
        self.min_n, self.dc, self.pc = min_n, duration_candidates, patience_candidates
        self.max_fit_n = max_fit_n
        self.has_abandonment = has_abandonment
        self.skipped, self.tables, self.diag = [], [], {}

    def run(self, sub, channel, reason=None):
        if self.max_fit_n and len(sub) > self.max_fit_n:  # a fixed random sample: same data, same fit
            sub = sub.sample(n=self.max_fit_n, random_state=0).sort_index()
        params, fits, objects = {}, {}, {}
        quantities = {
            "handle_time": lambda: fit_duration(sub["handle_time_s"], self.dc, self.min_n),
            "patience": lambda: fit_patience(*_waits(sub), candidates=self.pc, min_n=self.min_n),
            "resolution_time": lambda: fit_duration(
                (sub["resolved_at"] - sub["created_at"]).dt.total_seconds(), self.dc, self.min_n),
        }
        present = {"handle_time": sub["handle_time_s"].notna().any(),
                   "patience": self.has_abandonment and sub["queued_at"].notna().any(),
                   "resolution_time": sub["resolved_at"].notna().any()}
        label = channel if reason is None else f"{channel}/{reason}"
        if reason is None and not present["patience"] and sub["abandoned_at"].notna().any():
            self.skipped.append(f"{label}: patience: no queued_at (queue entry) times, so the waits before "
                                f"{int(sub['abandoned_at'].notna().sum())} abandonments are unknown; map queued_at "
                                "to the export's queue-entry column (or to created_at if contacts queue on arrival)")
        for quantity, run in quantities.items():
            if not present[quantity]:
                continue
            try:
                result = run()
            except FitError as exc:
                self.skipped.append(f"{label}: {quantity}: {exc}")
                continue
            params[quantity], fits[quantity], objects[quantity] = (
                result.to_scenario(), _table_rows(result.table), result)
            table = result.table.drop(columns=["params", "error"], errors="ignore")
            self.tables.append(pd.concat([pd.DataFrame({"channel": channel, "reason": reason,
                                                        "quantity": quantity}, index=table.index), table], axis=1))
            if reason is None:
                for name, frame in result.diagnostics().items():
                    self.diag.setdefault(f"{quantity}_{name}", []).append(frame.assign(channel=channel))
        return params, fits, objects


def calibrate(ticket_data: TicketData, interval="60min", min_n=50, tz=None,
              duration_candidates=("lognorm", "gamma", "weibull_min", "expon"),
              patience_candidates=("expon", "weibull_min", "lognorm", "gamma"),
              redial_window="24h", max_gap="30min", days="present", season=True, windows=None,
              user_events=None, max_fit_n=50_000, promises: dict | None = None,
              issue_window: str = "7d") -> Calibration:
    """Calibrate every channel of ``ticket_data`` (a :class:`~calibrate.schema.TicketData`).

    ``min_n`` is the fewest values (abandonments, for patience) a fit needs, for channels and
    reasons alike; ``tz`` re-expresses arrival times before profiling (default: as loaded);
              redial_window="24h", max_gap="30min", days="present", season=True, windows=None,
              user_events=None, max_fit_n=50_000, promises: dict | None = None,
              issue_window: str = "7d") -> Calibration:
    """
    contacts = ticket_data.contacts
    if contacts.empty:
        raise ValueError("The 'ticket_data' parameter of calibrate has no usable contacts "
                         f"(dropped: {ticket_data.dropped}).")
    profile = arrival_profile(contacts, interval=interval, tz=tz, days=days)
    fitter = _Fitter(min_n, duration_candidates, patience_candidates, max_fit_n=max_fit_n,
                     has_abandonment=bool(contacts["abandoned_at"].notna().any()))
    channels, fits, results, notes = {}, {}, {}, {}
    aht_profile = handle_time_profile(contacts, interval=interval, tz=tz, min_n=min_n)
    patience_profiles = []
    for channel in sorted(contacts["channel"].unique()):
        sub = contacts[contacts["channel"] == channel]
        params, fit_tables, objects = fitter.run(sub, channel)
        multipliers = aht_profile.loc[aht_profile["channel"] == channel, "multiplier"].to_numpy()
        if "handle_time" in params and len(multipliers) and (multipliers != 1.0).any():
            params["handle_time_profile"] = [round(float(m), 4) for m in multipliers]
        if "patience" in params:  # patience by time of day, censored (calibrate.behaviour_fits)
            by_hour = patience_profile(sub, interval=interval, tz=tz, min_n=min_n)
            if len(by_hour) and (by_hour["multiplier"] != 1.0).any():
                params["patience_profile"] = [round(float(m), 4) for m in by_hour["multiplier"]]
                patience_profiles.append(by_hour.assign(channel=channel))
        # zero durations are logging artefacts the fits leave out: counted, so the AHT can be traced
        for quantity, seconds in (("handle_time", sub["handle_time_s"]),
                                  ("resolution_time", (sub["resolved_at"] - sub["created_at"]).dt.total_seconds())):
            zeros = int((seconds == 0).sum())
            if zeros:
                notes[f"{quantity}_zero_left_out: {channel}"] = zeros
        params["arrivals"] = {"rate_per_hour": profile.mean_day(channel),
                              "day_of_week": profile.dow_multipliers(channel)}
        reasons, reason_fits = {}, {}
        counts = sub["reason"].value_counts()
        for reason, n in counts.items():
            r_params, r_fits, r_objects = fitter.run(sub[sub["reason"] == reason], channel, reason)
            reasons[reason] = {"share": n / counts.sum(), "n": n, **r_params}
            if r_fits:
                reason_fits[reason] = r_fits
            objects.update({f"{reason}/{k}": v for k, v in r_objects.items()})
        if reasons:
            params["reasons"] = reasons
        if reason_fits:
            fit_tables["reasons"] = reason_fits
        behaviour = behaviour_rates(contacts, channel=channel, redial_window=redial_window, min_n=min_n)
        if behaviour.to_dict():
            params["behaviour"] = behaviour.to_dict()
        objects["behaviour"] = behaviour
        channels[channel], fits[channel], results[channel] = params, fit_tables, objects

    diagnostics = {name: pd.concat(frames, ignore_index=True) for name, frames in fitter.diag.items()}
    diagnostics["arrivals"] = profile.rates
    diagnostics["arrivals_daily"] = daily_counts(contacts, tz=tz, days=days)
    diagnostics["day_of_week"] = profile.day_of_week
    if not aht_profile.empty:
        diagnostics["handle_time_profile"] = aht_profile
    if patience_profiles:
        diagnostics["patience_profile"] = pd.concat(patience_profiles, ignore_index=True)
    if fitter.tables:
        diagnostics["fit_candidates"] = pd.concat(fitter.tables, ignore_index=True)
    staffing = infer_staffing(contacts, interval=interval, max_gap=max_gap)
    if not staffing.empty:
        diagnostics["staffing"] = staffing
    diagnostics.update(report_tables(diagnostics, profile))
    diagnostics["drops"] = pd.DataFrame(
        [{"reason": r, "count": n, "example": ticket_data.drop_examples.get(r)}
         for r, n in ticket_data.dropped.items()], columns=["reason", "count", "example"])
    provenance = _provenance(ticket_data, interval, min_n)
    provenance["notes"].update(notes)
    model, summary = {}, {}
    if season:
        from calibrate.model_inputs import learn_model

        model, summary, tables = learn_model(contacts, channels, interval=interval, min_n=min_n, windows=windows,
                                             user_events=user_events, max_gap=max_gap)
        diagnostics.update(tables)
        fitter.skipped.extend(summary.get("skipped", []))
    satisfaction = None
    if contacts["csat"].notna().any():
        from calibrate.csat import fit_csat

        try:
            csat = fit_csat(contacts, promises, issue_window, min_n, max_fit_n)
        except ValueError as exc:
            fitter.skipped.append(f"csat: {exc}")
        else:
            satisfaction = csat.to_scenario()
            diagnostics["csat_fit"] = csat.table
            results["_satisfaction"] = csat
            if not promises:
                fitter.skipped.append("csat: late_first_response: no promises given (--promise CHANNEL=DURATION), "
                                      "so its default coefficient is kept")
    return Calibration(provenance=provenance, channels=channels,
                       fits=fits, skipped=fitter.skipped, diagnostics=diagnostics, results=results,
                       profile=profile, model=model, season=summary, satisfaction=satisfaction)


def report_tables(diagnostics: dict, profile: ArrivalProfile) -> dict:
    """The tables the report plots, with fixed names and columns (written as ``<name>.csv``):

    * ``fits``: ``channel, quantity, dist, aic, ks_stat, ks_pvalue, chosen`` (channel-level
      candidates; KS is not defined for censored patience and is left empty);
    * ``handle_time_qq``: ``channel, empirical_s, fitted_s``;
    * ``handle_time_hist``: ``channel, bin_left_s, bin_right_s, density, fitted_pdf``;
    * ``patience_km``: ``channel, t_s, km_survival, fitted_survival``;
    * ``arrival_profile``: ``channel, weekday, interval_of_day, observed_rate_per_hour,
      fitted_rate_per_hour``: observed = mean rate of that weekday and interval; fitted = the
      calibration's weekday-averaged daily profile × the weekday's multiplier (the separable
      shape the YAML states).
    """
    out = {}
    candidates = diagnostics.get("fit_candidates")
    fits = pd.DataFrame(columns=["channel", "quantity", "dist", "aic", "ks_stat", "ks_pvalue", "chosen"])
    if candidates is not None:
        own = candidates[candidates["reason"].isna()].copy()
        for col in ("ks_stat", "ks_pvalue"):
            if col not in own:
                own[col] = np.nan
        own["chosen"] = own["delta_aic"] == 0
        fits = own[list(fits.columns)].reset_index(drop=True)
    out["fits"] = fits
    pick = {"handle_time_qq": ("handle_time_qq", {}, ["channel", "empirical_s", "fitted_s"]),
            "handle_time_hist": ("handle_time_density", {"empirical_density": "density"},
                                 ["channel", "bin_left_s", "bin_right_s", "density", "fitted_pdf"]),
            "patience_km": ("patience_survival", {"time_s": "t_s"}, ["channel", "t_s", "km_survival", "fitted_survival"])}
    for name, (source, rename, columns) in pick.items():
        frame = diagnostics.get(source)
        out[name] = (frame.rename(columns=rename)[columns] if frame is not None
                     else pd.DataFrame(columns=columns))
    rates = profile.rates.rename(columns={"rate_per_hour": "observed_rate_per_hour"})
    mean_day = rates.groupby(["channel", "interval_of_day"])["observed_rate_per_hour"].transform("mean")
    dow = profile.day_of_week.set_index(["channel", "weekday"])["multiplier"]
    mult = pd.Series([dow.get((c, d), np.nan) for c, d in zip(rates["channel"], rates["weekday"])], index=rates.index)
    rates["fitted_rate_per_hour"] = mean_day * mult
    out["arrival_profile"] = rates[["channel", "weekday", "interval_of_day", "observed_rate_per_hour",
                                    "fitted_rate_per_hour"]].reset_index(drop=True)
    return out


def _version() -> str:
    try:
        return metadata.version("peaksim")
    except metadata.PackageNotFoundError:  # running from a source checkout
        return "unknown"


def _provenance(td: TicketData, interval, min_n) -> dict:
    created = td.contacts["created_at"]
    return {"files": [{"path": p, "sha256": h} for p, h in td.files], "rows_read": td.rows_read,
            "rows_used": td.rows_used, "dropped": dict(td.dropped), "notes": dict(td.notes),
            "date_range": [created.min().isoformat(), created.max().isoformat()],
            "tz": str(created.dt.tz), "created_by": "peaksim", "version": _version(),
            "interval": str(interval), "min_n": min_n}
