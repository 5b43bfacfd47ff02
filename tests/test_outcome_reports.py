"""Customer outcomes in the reports: each report shows the outcome columns its command saved
(and nothing new when a table predates them); durations read in sim/readable.py's units."""

import pandas as pd

import report_fixtures as fx
from sim.report import render_report
from sim.report.outcomes import duration

OUTCOMES = {"fcr": 0.7, "csat": 0.8, "unresolved_share": 0.05, "resolution_time_p90_s": 18530.7,
            "contacts_per_issue": 1.3, "revenue_at_risk": 1200.0, "issues": 400}


def with_outcomes(path, name):
    frame = pd.read_csv(path / name)
    for column, value in OUTCOMES.items():
        frame[column] = value
        if column != "issues":
            frame[f"{column}_lo"], frame[f"{column}_hi"] = 0.9 * value, 1.1 * value
    frame.to_csv(path / name, index=False)


def figures(text: str) -> int:
    return text.count('class="plotly-graph-div"')


def test_sweep_report_adds_outcome_curves(tmp_path):
    plain = render_report(fx.sweep_dir(tmp_path / "a"))
    path = fx.sweep_dir(tmp_path / "b")
    with_outcomes(path, "sweep.csv")
    text = render_report(path)
    assert "Customer outcomes against staffing" in text and "Customer outcomes against staffing" not in plain
    assert figures(text) == figures(plain) + 1


def test_staff_report_adds_outcomes_reached_by_each_method(tmp_path):
    path = fx.staff_dir(tmp_path / "s")
    plain = render_report(path)
    sl = pd.read_csv(path / "staffing_sl.csv")[["interval_start", "channel", "method"]]
    sl.to_csv(path / "staffing_outcomes.csv", index=False)
    with_outcomes(path, "staffing_outcomes.csv")
    text = render_report(path)
    assert figures(text) == figures(plain) + 1 and "resolution time p90 (h)" in text


def test_run_report_cards_show_outcomes_in_readable_units(tmp_path):
    path = fx.run_dir(tmp_path / "r")
    text = render_report(path)
    summary = pd.read_csv(path / "summary.csv")
    assert "Customer outcomes" in text and "first-contact resolution" in text
    assert duration(summary["resolution_time_p90_s"].iloc[0]) in text  # the card's p90, as a planner reads it


def test_terminal_shows_revenue_at_risk_only_when_the_scenario_prices_it(capsys):
    """Without a `revenue_at_risk:` block every value is 0: a column of zeros would say "nothing at risk"."""
    from sim.cli import print_outcomes

    row = {"channel": "phone", "issues": 100, "fcr": 0.9, "fcr_lo": 0.85, "fcr_hi": 0.95, "csat": 0.8,
           "csat_lo": 0.75, "csat_hi": 0.85, "resolution_time_p50_s": 60.0, "resolution_time_p90_s": 300.0,
           "contacts_per_issue": 1.1, "unresolved_share": 0.05}
    print_outcomes(pd.DataFrame([{**row, "revenue_at_risk": 0.0}]), "unpriced")
    assert "revenue at risk" not in capsys.readouterr().out
    print_outcomes(pd.DataFrame([{**row, "revenue_at_risk": 7653.0}]), "priced")
    shown = capsys.readouterr().out
    assert "revenue at risk" in shown and "7,653" in shown


def test_compare_shows_revenue_at_risk_only_when_a_run_prices_it():
    from sim.report.outcomes import compare_section

    class Page:
        def __init__(self):
            self.kpis = []

        def section(self, *args):
            pass

        def cards(self, cards, heading):
            self.kpis += cards

    def table(revenue_a, revenue_b):
        return pd.DataFrame([{"channel": "voice", "kpi": kpi, "a": a, "b": b}
                             for kpi, a, b in (("fcr", 0.8, 0.7), ("revenue_at_risk", revenue_a, revenue_b))])

    unpriced, priced = Page(), Page()
    compare_section(unpriced, table(0.0, 0.0), ["voice"], lambda row: row["kpi"])
    compare_section(priced, table(0.0, 1500.0), ["voice"], lambda row: row["kpi"])
    assert unpriced.kpis == ["fcr"]
    assert priced.kpis == ["fcr", "revenue_at_risk"]
