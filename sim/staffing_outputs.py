"""Writing a staffing result to disk: staffing.csv, staffing_sl.csv, staffed_scenario.yaml, staffing.json."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import __version__
from .scenario import Scenario
from .scenario_dump import scenario_data

if TYPE_CHECKING:
    from .staffing import StaffResult


def scenario_yaml(scenario: Scenario, comment: str = "") -> str:
    """The scenario as YAML that `peaksim run` reads back unchanged (durations in seconds, ISO times)."""
    import yaml

    data = _drop_none(scenario_data(scenario, mode="json"))
    # the calibration's values are already merged into the channels: the file stands alone (a relative
    # `calibration:` path would not resolve from the output folder), the source is kept as a comment
    source = data.pop("calibration", None)
    if source is not None:
        comment = f"{comment}\ncalibrated values merged from {source}".lstrip("\n")
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def write_staff(result: StaffResult, out, command: list[str] | None = None) -> list:
    """staffing.csv, staffing_sl.csv, staffed_scenario.yaml and staffing.json."""
    from .outputs import atomic_write, write_csv, write_json

    paths = [out / "staffing.csv", out / "staffing_sl.csv", out / "staffed_scenario.yaml", out / "staffing.json"]
    write_csv(result.staffing, paths[0])
    write_csv(result.service, paths[1])
    if result.outcomes is not None:
        write_csv(result.outcomes, out / "staffing_outcomes.csv")
        paths.append(out / "staffing_outcomes.csv")
    atomic_write(paths[2], scenario_yaml(result.staffed_scenario,
                                         f"{result.staffed_scenario.name}: headcount per interval found by "
                                         f"`peaksim staff` (peaksim {__version__})"))
    write_json({**result.meta, **({"command": command} if command else {})}, paths[3])
    return paths
