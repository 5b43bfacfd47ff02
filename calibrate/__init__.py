"""peaksim's calibration package: last year's tickets → model parameters and diagnostics.

Typical use (the CLI does the same)::

    from calibrate import load_tickets, calibrate
    data = load_tickets(["tickets_2023q4.csv"], mapping="calibrate/mappings/zendesk.yaml")
    cal = calibrate(data, interval="60min")
    cal.to_yaml("calibration.yaml")
    cal.write_diagnostics("diagnostics/")

Modules: :mod:`~calibrate.tickets` (reading, :class:`TicketError`), :mod:`~calibrate.schema`
(the generic contact columns), :mod:`~calibrate.sources` (Technion and UCI readers),
:mod:`~calibrate.fit` (distribution fits), :mod:`~calibrate.profiles` (arrivals, staffing,
behaviour), :mod:`~calibrate.calibration` (everything together, YAML and CSV output),
:mod:`~calibrate.synth` (a scenario's simulated contacts as tickets) and
:mod:`~calibrate.backtest` (calibrate on training tickets, replay a held-out period, compare with
what happened and with Erlang A).
"""
from calibrate.calibration import Calibration, calibrate
from calibrate.fit import DurationFit, FitError, PatienceFit, fit_duration, fit_patience
from calibrate.profiles import (ArrivalProfile, BehaviourRates, arrival_profile, behaviour_rates, growth,
                                infer_staffing, peak_uplift)
from calibrate.tickets import TicketData, TicketError, load_mapping, load_tickets

__all__ = ["Calibration", "calibrate", "DurationFit", "FitError", "PatienceFit", "fit_duration",
           "fit_patience", "ArrivalProfile", "BehaviourRates", "arrival_profile", "behaviour_rates",
           "growth", "infer_staffing", "peak_uplift", "TicketData", "TicketError", "load_mapping",
           "load_tickets"]
