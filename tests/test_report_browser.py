"""Every report kind opened in real headless Chromium: no console errors, every figure drawn,
the XSS probe shown as text and never run, and a screenshot saved.

Chromium is driven over the DevTools pipe (tests/cdp.py, stdlib only). When it is missing the
test runs `.ci/install-browser` once and skips, with the reason, only if that fails.

With PEAKSIM_WRITE_DOCS=1, `test_docs_screenshots` also writes docs/report-<kind>.png (the README's
screenshots) from the real commands run on the shipped scenarios and the Technion call log
(PEAKSIM_DATA); otherwise it is skipped so CI leaves the tree clean.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import report_fixtures as fx
from cdp import Browser, CDPError, find_chromium
from sim.report import KINDS, build_report

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
EXPECTED_FIGURES = {"run": 8, "sweep": 2, "staff": 4, "calibrate": 5, "backtest": 2, "compare": 3}
FIGURES_JS = """(() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id,
    svg: d.querySelectorAll('svg.main-svg').length,
    drawn: d.querySelectorAll('.trace path, .trace image, .hm image').length,
})))()"""
ALL_DRAWN_JS = f"""(() => {{ const f = {FIGURES_JS};
    return f.length === Number(document.body.dataset.figures) && f.every(x => x.svg > 0 && x.drawn > 0); }})()"""


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        subprocess.run([str(ROOT / ".ci" / "install-browser")], check=False, timeout=600)
        executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed and .ci/install-browser could not install it "
                    "(no apt-get, not root, or offline); the browser test needs the Debian package `chromium`")
    with Browser.launch(executable) as b:
        yield b


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    run_a = fx.run_dir(base / "run")
    fx.add_future_columns(run_a)
    run_b = fx.run_dir(base / "run_b", agents=11)
    dirs = {"run": run_a, "sweep": fx.sweep_dir(base / "sweep"), "staff": fx.staff_dir(base / "staff"),
            "calibrate": fx.calibrate_dir(base / "calibrate"), "backtest": fx.backtest_dir(base / "backtest"),
            "compare": fx.compare_dir(base / "compare", run_a, run_b)}
    return {kind: build_report(path) for kind, path in dirs.items()}


def open_and_check(browser: Browser, path: Path, shot: Path, expected: int | None = None):
    """Open a report, wait until every figure is drawn, screenshot it, assert no errors; returns the page."""
    page = browser.open(path)
    page.wait_for("document.readyState === 'complete'")
    try:
        page.wait_for(ALL_DRAWN_JS, timeout=20)
    except CDPError:
        pytest.fail(f"{path}: not every figure was drawn: {page.evaluate(FIGURES_JS)}; errors: {page.errors}")
    figures = page.evaluate(FIGURES_JS)
    declared = int(page.evaluate("document.body.dataset.figures"))
    if expected is not None:
        assert declared == expected, f"{path}: expected {expected} figures, the page declares {declared}"
    assert len(figures) == declared and all(f["svg"] and f["drawn"] for f in figures), figures
    page.screenshot(shot)
    page.evaluate("0")  # collect any event still in flight
    assert page.errors == [], f"{path}: console errors {page.errors}"
    assert page.dialogs == [], f"{path}: the page opened dialogs {page.dialogs}"
    return page


@pytest.mark.parametrize("kind", KINDS)
def test_report_renders_without_errors_and_probe_is_text(browser, reports, kind, tmp_path):
    page = open_and_check(browser, reports[kind], tmp_path / f"report-{kind}.png", EXPECTED_FIGURES[kind])
    try:
        assert (tmp_path / f"report-{kind}.png").stat().st_size > 10_000
        assert page.evaluate("typeof window.__xss") == "undefined", "a script from a name ran"
        assert page.evaluate(f"document.body.innerText.includes({json.dumps(fx.XSS)})"), \
            "the probe name is not shown as text"
        if kind in ("run", "sweep", "staff", "compare"):
            svg_text = page.evaluate("Array.from(document.querySelectorAll('.legendtext, .gtitle, .annotation-text,"
                                     " .xtick text, .ytick text')).map(e => e.textContent)")
            assert any(fx.XSS in t for t in svg_text), "the probe is not shown literally inside the figures"
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], main script:not([type])').length") == \
            EXPECTED_FIGURES[kind], "only the figures' own scripts may be in the page body"
    finally:
        page.close()


BANK = Path(os.environ.get("PEAKSIM_DATA", ROOT.parent / "shared" / "data")) / "technion-anonymous-bank"
# Shift templates for the staff screenshot (the shape of the README's shift-template example), fitted to
# time_varying_check's 06:00–14:00 horizon.
DOCS_SHIFT_TEMPLATES = """\
cost_per_hour: 25
templates:
  - name: full_time
    length: 8h
    starts: {from: "06:00", to: "08:00", every: 30min}
  - name: part_time
    length: 4h
    starts: {from: "06:00", to: "10:00", every: 30min}
    cost_per_hour: 27
"""


def _edited(source: Path, target: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of a shipped scenario with each `old` text (which must occur exactly once) replaced."""
    text = source.read_text()
    for old, new in replacements:
        assert text.count(old) == 1, f"{source}: expected {old!r} exactly once"
        text = text.replace(old, new)
    target.write_text(text)
    return target


@pytest.mark.skipif(os.environ.get("PEAKSIM_WRITE_DOCS") != "1",
                    reason="writes docs/report-*.png; run with PEAKSIM_WRITE_DOCS=1 to refresh the README screenshots")
def test_docs_screenshots(browser, tmp_path, monkeypatch):
    """README screenshots, each from the real command's output on the shipped scenarios and the
    Technion call log (no fixture tables):

    run        peaksim run scenarios/black_friday_week.yaml -r 2
    compare    that run vs the same scenario with the bots' containment ÷ 3 (chat bot 0.3 → 0.1)
    sweep      peaksim sweep black_friday_week (cut to 2 days) --agents chat_team=16:32:4 -r 2
    staff      peaksim staff scenarios/time_varying_check.yaml -r 10 --shift-templates (DOCS_SHIFT_TEMPLATES)
    calibrate  peaksim calibrate anonymous_bank_1999-01.txt --format technion
    backtest   peaksim backtest --format technion --train 1999-01 1999-02 --test 1999-08 --interval 60min -r 3

    sweep and staff write no report.html themselves, so `peaksim report DIR --kind KIND` builds it.
    """
    from typer.testing import CliRunner

    from sim.cli import app

    months = {m: BANK / f"anonymous_bank_1999-{m}.txt" for m in ("01", "02", "08")}
    missing = [str(p) for p in months.values() if not p.is_file()]
    if missing:
        pytest.fail(f"the calibrate and backtest screenshots need the Technion call log: missing {missing} "
                    "(set PEAKSIM_DATA to the folder holding technion-anonymous-bank/)")
    runner = CliRunner()

    def peaksim(*args) -> None:
        args = [str(a) for a in args]
        monkeypatch.setattr(sys, "argv", ["peaksim", *args])  # the command line the outputs record
        began = time.perf_counter()
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"peaksim {' '.join(args)} failed:\n{result.output}"
        print(f"peaksim {args[0]}: {time.perf_counter() - began:.1f} s")

    scenarios = ROOT / "scenarios"
    black_friday = scenarios / "black_friday_week.yaml"
    peaksim("run", black_friday, "-r", "2", "--out", tmp_path / "run")

    # B: the bots contain a third as much. The chat bot's `containment` goes 0.3 → 0.1, and so does every
    # reason's `bot_containment`, since those replace the bot's own containment (black_friday_week sets
    # one for every reason, so the bot's value alone changes nothing); the reasons are shared, so the
    # WhatsApp bot contains a third as much too.
    scaled = [(f"    bot_containment: {v}\n", f"    bot_containment: {round(float(v) / 3, 4)}\n")
              for v in re.findall(r"^    bot_containment: ([0-9.]+)$", black_friday.read_text(), re.M)]
    less_bot = _edited(black_friday, tmp_path / "black_friday_less_bot.yaml",
                       ("name: black friday week\n", "name: black friday week, bot containment ÷ 3\n"),
                       ("    bot:\n      containment: 0.3\n", "    bot:\n      containment: 0.1\n"), *scaled)
    peaksim("run", less_bot, "-r", "2", "--out", tmp_path / "run_less_bot", "--no-report")
    peaksim("compare", tmp_path / "run", tmp_path / "run_less_bot", "--out", tmp_path / "compare")

    two_days = _edited(black_friday, tmp_path / "black_friday_2d.yaml", ("\nduration: 9d\n", "\nduration: 2d\n"))
    peaksim("sweep", two_days, "--agents", "chat_team=16:32:4", "-r", "2", "--out", tmp_path / "sweep")
    peaksim("report", tmp_path / "sweep", "--kind", "sweep")

    templates = tmp_path / "shifts.yaml"
    templates.write_text(DOCS_SHIFT_TEMPLATES)
    peaksim("staff", scenarios / "time_varying_check.yaml", "-r", "10", "--shift-templates", templates,
            "--out", tmp_path / "staff")
    peaksim("report", tmp_path / "staff", "--kind", "staff")

    peaksim("calibrate", months["01"], "--format", "technion", "--out", tmp_path / "calibrate")
    peaksim("backtest", "--format", "technion", "--train", months["01"], months["02"], "--test", months["08"],
            "--interval", "60min", "-r", "3", "--out", tmp_path / "backtest")

    for kind in KINDS:
        report = tmp_path / kind / "report.html"
        assert report.is_file(), f"{kind}: the command wrote no {report}"
        page = open_and_check(browser, report, ROOT / "docs" / f"report-{kind}.png")
        page.close()
