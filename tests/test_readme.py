"""The README a newcomer finishes: at most 400 lines, every link resolves, its two-channel scenario is
the shipped file and runs, and its test command is exactly what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub-style anchors of a markdown file's headings."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)  # not inside code blocks
    return [t for t in LINK.findall(text) if not t.startswith(("http://", "https://", "mailto:"))]


def test_readme_is_at_most_400_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("page", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert broken == [], f"{page.name}: links that do not resolve: {broken}"


def test_readme_links_every_topic_doc():
    targets = {t.partition("#")[0] for t in links(README)}
    for doc in ("docs/scenarios.md", "docs/scenario-reference.md", "docs/model.md", "docs/outputs.md",
                "docs/calibration.md", "docs/forecast.md", "docs/staffing.md", "docs/outcomes.md", "docs/levers.md",
                "docs/validation.md", "docs/backtest.md", "docs/performance.md", "docs/reliability.md",
                "docs/tests.md"):
        assert doc in targets, f"the README does not link {doc}"
    for title in ("From last year's export to this year's forecast", "Customer outcomes", "Peak levers",
                  "Reliability", "Validation and backtests"):
        assert re.search(rf"^#+ {re.escape(title)}$", README.read_text(encoding="utf-8"), re.M), title


def test_the_two_channel_scenario_is_the_shipped_file_and_runs(tmp_path):
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    shipped = ROOT / "scenarios" / "my_first_scenario.yaml"
    assert shipped.read_text(encoding="utf-8") in blocks, "the README's scenario differs from scenarios/my_first_scenario.yaml"
    sc = load_scenario(shipped)
    assert len(sc.channels) == 2 and {c.kind for c in sc.channels.values()} == {"sync", "async"}


def test_the_test_command_is_what_ci_runs_and_installs_nothing():
    text = README.read_text(encoding="utf-8")
    command = "pip install '.[test]' && python -m pytest -q"
    assert f"```sh\n{command}\n```" in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == command, "`.ci/run` must end by running exactly the README's test command"
    browser_test = (ROOT / "tests" / "test_report_browser.py").read_text(encoding="utf-8")
    assert "install-browser" not in browser_test and "apt-get" not in browser_test


def test_the_first_command_names_a_shipped_scenario():
    first = re.search(r"```sh\npip install \. && peaksim run (\S+)\n```", README.read_text(encoding="utf-8"))
    assert first and (ROOT / first.group(1)).is_file()
