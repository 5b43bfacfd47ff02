"""Chart for the README: offered contacts and voice abandonment vs staffing, with and without
redials/chasers/reopens (scenarios/retrial_demo.yaml). Writes docs/retrials.png and prints the table.

Uses matplotlib (docs only, not a peaksim dependency): pip install matplotlib
    python bench/retrial_chart.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from sim.runner import run_scenario  # noqa: E402
from sim.scenario import parse_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def scenario(agents: int, behaviour: bool):
    data = yaml.safe_load((ROOT / "scenarios" / "retrial_demo.yaml").read_text())
    data["replications"] = 5
    data["agents"][0]["headcount"] = agents
    if not behaviour:
        for channel in data["channels"].values():
            channel.pop("behaviour", None)
    return parse_scenario(data)


def main() -> None:
    levels = list(range(8, 21, 2))
    rows = []
    for agents in levels:
        for behaviour in (True, False):
            summary = run_scenario(scenario(agents, behaviour)).summary.set_index("channel")
            rows.append((agents, behaviour, summary["offered"].sum(), summary.loc["voice", "abandon_rate"]))
    print(f"{'agents':>6} {'offered with':>13} {'without':>9} {'voice abandon with':>19} {'without':>9}")
    for agents in levels:
        w = next(r for r in rows if r[0] == agents and r[1])
        wo = next(r for r in rows if r[0] == agents and not r[1])
        print(f"{agents:>6} {w[2]:>13,.0f} {wo[2]:>9,.0f} {w[3]:>19.1%} {wo[3]:>9.1%}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for behaviour, style in ((True, "o-"), (False, "s--")):
        data = [r for r in rows if r[1] == behaviour]
        label = "with redials, chasers, reopens" if behaviour else "without"
        axes[0].plot([r[0] for r in data], [r[2] for r in data], style, label=label)
        axes[1].plot([r[0] for r in data], [100 * r[3] for r in data], style, label=label)
    axes[0].set(xlabel="agents", ylabel="contacts offered to agents per day", title="Load grows as staffing falls")
    axes[1].set(xlabel="agents", ylabel="voice abandonment (%)", title="Abandonment")
    axes[0].legend()
    fig.tight_layout()
    out = ROOT / "docs" / "retrials.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
