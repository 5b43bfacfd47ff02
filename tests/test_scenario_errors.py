"""A catalogue of bad scenario files: each gets one located, fixable line on every command, exit 2.

Every message has the shape `FILE:LINE: path.to.field: what is wrong (got VALUE); how to fix`.
Documented variants: a YAML syntax error puts `YAML syntax error` where the field would be (there
is no field yet), and problems with the file itself (not found, too large) have no LINE.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from sim import yamlsource
from sim.cli import app

from conftest import TINY_SCENARIO, ROOT

# a path is one word; a key with spaces in it is quoted: channels.'live chat'.handle_time
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<path>\(top level\)|YAML syntax error|(?:'[^'\n]*'|[^ '])+): "
                  r".+ \(got .+\); .+$")
FILE_ONLY = re.compile(r"^(?P<file>.+?): .+ \(got .+\); .+$")

BASE = {**TINY_SCENARIO, "replications": 2}


def voice(d):
    return d["channels"]["voice"]


def team(d):
    return d["agents"][0]


def shifts(*spec):
    def mutate(d):
        team(d).pop("headcount")
        team(d)["shifts"] = [dict(s) for s in spec]
    return mutate


# (id, mutation of BASE or raw file text, expected field path, a fragment of the message)
CASES = [
    # --- the file itself ---
    ("empty file", "", r"\(top level\)", "the file is empty"),
    ("only comments", "# a scenario\n# TODO\n", r"\(top level\)", "the file is empty"),
    ("a list, not a mapping", "- voice\n- chat\n", r"\(top level\)", "must be a YAML mapping of keys (got list)"),
    ("a scalar, not a mapping", "just text\n", r"\(top level\)", "must be a YAML mapping of keys (got str)"),
    ("yaml syntax: unclosed bracket", "name: x\nchannels:\n  voice: [unclosed\nagents: []\n",
     "YAML syntax error", "got"),
    ("yaml syntax: tab indentation", "name: x\nchannels:\n\tvoice: {}\n", "YAML syntax error", "got"),
    ("yaml syntax: bad colon", "name: x\nduration: 4h\n  interval: 30min\n", "YAML syntax error", "got"),
    ("duplicate key", "name: a\nduration: 4h\nname: b\n", "name", "key appears twice"),
    ("not utf-8", b"name: caf\xe9\n", r"\(encoding\)", "not UTF-8 text (got byte 0xe9)"),
    ("nested too deeply", "a: " + "[" * 1500 + "]" * 1500 + "\n", r"\(top level\)", "nested too deeply"),
    # below libyaml's own limit (which older PyYAML wheels lack), so peaksim's guard is what answers
    ("nested deeper than a scenario", "a: " + "[" * 200 + "]" * 200 + "\n", r"\(top level\)", "nested too deeply"),
    ("alias refers to itself", "name: &a [x, *a]\n", r"\(top level\)", "refers to itself"),
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(7)),
     r"\(top level\)", "expands to more than"),
    # --- types ---
    ("rate is text", lambda d: voice(d)["arrivals"].update(rate_per_hour="lots"),
     r"channels\.voice\.arrivals\.rate_per_hour", "must be a valid number"),
    ("rate is infinite", lambda d: voice(d)["arrivals"].update(rate_per_hour=float("inf")),
     r"channels\.voice\.arrivals\.rate_per_hour", "finite"),
    ("handle time is a string", lambda d: voice(d).update(handle_time="3min"),
     r"channels\.voice\.handle_time", "got '3min'"),
    ("duration in parsecs", lambda d: voice(d)["handle_time"].update(mean="3 parsecs"),
     r"channels\.voice\.handle_time\.mean", "not a duration (got '3 parsecs')"),
    ("concurrency not whole", lambda d: voice(d).update(concurrency=1.5),
     r"channels\.voice\.concurrency", "got 1.5"),
    ("headcount not whole", lambda d: team(d).update(headcount=2.5), r"agents\[0\]\.headcount", "got 2.5"),
    ("target as a percentage", lambda d: voice(d)["service_level"].update(target=80),
     r"channels\.voice\.service_level\.target", "not a percentage (0.8 means 80%): write 0.8"),
    ("shrinkage as a percentage", lambda d: team(d).update(shrinkage=30), r"agents\[0\]\.shrinkage",
     "not a percentage (0.3 means 30%): write 0.3"),
    ("headcount yes", lambda d: team(d).update(headcount=True), r"agents\[0\]\.headcount",
     "must be a number, not true/false (got True)"),
    ("headcount list with on", lambda d: team(d).update(headcount=[3, True]), r"agents\[0\]\.headcount\[1\]",
     "must be a number, not true/false (got True)"),
    ("skill priority yes", lambda d: team(d).update(skills={"voice": True}), r"agents\[0\]\.skills\.voice",
     "must be a number, not true/false"),
    ("target yes", lambda d: voice(d)["service_level"].update(target=True),
     r"channels\.voice\.service_level\.target", "must be a number, not true/false"),
    ("handle time mean no", lambda d: voice(d)["handle_time"].update(mean=False),
     r"channels\.voice\.handle_time\.mean", "expected a duration (got False)"),
    ("seed is text", lambda d: d.update(seed="abc"), "seed", "got 'abc'"),
    ("name is a number", lambda d: d.update(name=5), "name", "must be a valid string (got 5)"),
    ("channel named with a line break", lambda d: d["channels"].update({"a\nb": None}), r"channels\['a\\nb'\]",
     "must be a valid dictionary"),
    ("name is a mapping with a line-break key", lambda d: d.update(name={"\n": None}), "name",
     "got a mapping with keys \\n"),
    ("timezone is a number", lambda d: d.update(timezone=5), "timezone", "got 5"),
    ("start is not a date", lambda d: d.update(start="next monday"), "start", "got 'next monday'"),
    ("skills is text", lambda d: team(d).update(skills="voice"), r"agents\[0\]\.skills", "got 'voice'"),
    ("channels is a list", lambda d: d.update(channels=["voice"]), "channels", "got ['voice']"),
    ("agents is a mapping", lambda d: d.update(agents={"team": {}}), "agents", "must be a valid list"),
    ("channel is null", lambda d: d["channels"].update(voice=None), r"channels\.voice", "got nothing (null)"),
    # --- negative or zero rates and durations ---
    ("negative rate in a profile", lambda d: voice(d)["arrivals"].update(rate_per_hour=[1] * 47 + [-1]),
     r"channels\.voice\.arrivals\.rate_per_hour\[47\]", "must be ≥ 0 (got -1)"),
    ("zero handle time", lambda d: voice(d)["handle_time"].update(mean=0),
     r"channels\.voice\.handle_time\.mean", "must be > 0 (got 0)"),
    ("negative handle time", lambda d: voice(d)["handle_time"].update(mean="-3min"),
     r"channels\.voice\.handle_time\.mean", "cannot be negative (got '-3min')"),
    ("deterministic zero handle time", lambda d: voice(d).update(handle_time={"dist": "deterministic", "value": 0}),
     r"channels\.voice\.handle_time", "mean handle time must be above zero"),
    ("zero patience", lambda d: voice(d)["patience"].update(mean=0), r"channels\.voice\.patience\.mean", "must be > 0"),
    ("zero sd", lambda d: voice(d).update(handle_time={"dist": "gamma", "mean": 100, "sd": 0}),
     r"channels\.voice\.handle_time\.sd", "must be > 0"),
    ("negative threshold", lambda d: voice(d)["service_level"].update(threshold="-5s"),
     r"channels\.voice\.service_level\.threshold", "cannot be negative"),
    ("zero duration", lambda d: d.update(duration=0), "duration", "must be > 0 (got 0)"),
    ("negative warm-up", lambda d: d.update(warmup="-1h"), "warmup", "cannot be negative"),
    ("negative headcount", lambda d: team(d).update(headcount=-3), r"agents\[0\]\.headcount", "must be ≥ 0 (got -3)"),
    ("zero concurrency", lambda d: voice(d).update(concurrency=0), r"channels\.voice\.concurrency", "must be ≥ 1"),
    ("zero replications", lambda d: d.update(replications=0), "replications", "must be ≥ 1 (got 0)"),
    ("negative seed", lambda d: d.update(seed=-1), "seed", "must be ≥ 0"),
    ("zero proficiency", lambda d: team(d).update(proficiency=0), r"agents\[0\]\.proficiency", "must be > 0"),
    ("negative concurrency factor", lambda d: voice(d).update(concurrency=2, concurrency_factor=[1, -1]),
     r"channels\.voice\.concurrency_factor", "got -1"),
    # --- probabilities outside [0, 1] ---
    ("shrinkage above 1", lambda d: team(d).update(shrinkage=1.5), r"agents\[0\]\.shrinkage", "must be ≤ 1 (got 1.5)"),
    ("shrinkage negative", lambda d: team(d).update(shrinkage=-0.1), r"agents\[0\]\.shrinkage", "must be ≥ 0"),
    ("shrinkage exactly 1", lambda d: team(d).update(shrinkage=1.0), r"agents\[0\]\.shrinkage", "must be below 1"),
    ("target above 1", lambda d: voice(d)["service_level"].update(target=1.5),
     r"channels\.voice\.service_level\.target", "must be ≤ 1 (got 1.5)"),
    ("target zero", lambda d: voice(d)["service_level"].update(target=0),
     r"channels\.voice\.service_level\.target", "must be > 0"),
    ("impossible target", lambda d: voice(d)["service_level"].update(target=1.0, threshold=0),
     r"channels\.voice\.service_level\.target", "no contact may ever wait"),
    # --- unknown keys, typos, references ---
    ("typo in a channel key", lambda d: voice(d).update(handel_time=1), r"channels\.voice\.handel_time",
     "did you mean `handle_time`?"),
    ("typo in a top-level key", lambda d: d.update(replicatons=3), "replicatons", "did you mean `replications`?"),
    ("typo in an agent key", lambda d: team(d).update(headcout=3), r"agents\[0\]\.headcout", "did you mean `headcount`?"),
    ("unknown key", lambda d: d.update(colour="blue"), "colour", "remove it"),
    ("skill names an undefined channel", lambda d: team(d).update(skills=["voise"]), r"agents\[0\]\.skills\.voise",
     "did you mean 'voice'?"),
    ("channel nobody can serve", lambda d: d["channels"].update(chat=copy.deepcopy(voice(d))), r"channels\.chat",
     "no agent group has this channel"),
    ("unknown distribution", lambda d: voice(d)["handle_time"].update(dist="pareto"),
     r"channels\.voice\.handle_time\.dist", "got 'pareto'"),
    ("distribution without dist", lambda d: voice(d).update(handle_time={"mean": "3min"}),
     r"channels\.voice\.handle_time", "needs a `dist` key"),
    ("missing required key", lambda d: voice(d).pop("service_level"), r"channels\.voice\.service_level",
     "required key is missing"),
    ("missing sd", lambda d: voice(d).update(handle_time={"dist": "lognormal", "mean": 3}),
     r"channels\.voice\.handle_time\.sd", "required key is missing"),
    ("unknown kind", lambda d: voice(d).update(kind="phone"), r"channels\.voice\.kind", "got 'phone'"),
    ("duplicate group names", lambda d: d["agents"].append(copy.deepcopy(team(d))), r"agents\[0\]\.name",
     "must be unique"),
    ("no agent groups", lambda d: d.update(agents=[]), "agents", "needs at least 1 entry"),
    ("no channels", lambda d: d.update(channels={}), "channels", "needs at least 1 entry"),
    ("skill priority 0", lambda d: team(d).update(skills={"voice": 0}), r"agents\[0\]\.skills\.voice", "must be ≥ 1"),
    ("empty skills", lambda d: team(d).update(skills=[]), r"agents\[0\]\.skills", "at least one skill"),
    ("async channel with patience", lambda d: voice(d).update(kind="async"), r"channels\.voice\.patience",
     "async channels do not abandon"),
    # --- schedules, shifts, horizon ---
    ("two schedules", lambda d: team(d).update(shifts=[{"start": "08:00", "end": "16:00", "agents": 3}]),
     r"agents\[0\]\.shifts", "got headcount and shifts"),
    ("no schedule", lambda d: team(d).pop("headcount"), r"agents\[0\]", "got none of them"),
    ("shift outside the horizon", shifts({"start": "08:00", "end": "16:00", "agents": 3}), r"agents\[0\]\.shifts",
     "no shift of this group falls inside the horizon"),
    ("shift on no day in the horizon", lambda d: (d.update(duration="24h"), shifts(
        {"start": "08:00", "end": "16:00", "agents": 3, "days": ["sat", "sun"]})(d)), r"agents\[0\]\.shifts",
     "falls inside the horizon"),
    ("shift ends when it starts", shifts({"start": "08:00", "end": "08:00", "agents": 3}),
     r"agents\[0\]\.shifts\[0\]\.end", "got 08:00 for both"),
    ("shift clock 25:00", shifts({"start": "25:00", "end": "16:00", "agents": 3}), r"agents\[0\]\.shifts\[0\]\.start",
     "not a clock time (got '25:00')"),
    ("shift on an unknown day", shifts({"start": "08:00", "end": "16:00", "agents": 3, "days": ["funday"]}),
     r"agents\[0\]\.shifts\[0\]\.days\[0\]", "got 'fun'"),
    ("opening hours reversed", lambda d: voice(d).update(open={"start": "18:00", "end": "08:00"}),
     r"channels\.voice\.open\.end", "got 18:00–08:00"),
    ("interval does not divide the day", lambda d: d.update(interval="7min"), "interval", "use 15min, 30min or 60min"),
    ("interval not a WFM interval", lambda d: d.update(interval="20min"), "interval", "got '20min'"),
    ("profile of the wrong length", lambda d: voice(d)["arrivals"].update(rate_per_hour=[1, 2, 3]),
     r"channels\.voice\.arrivals\.rate_per_hour", "give 48 values"),
    ("headcount profile of the wrong length", lambda d: team(d).update(headcount=[3] * 24),
     r"agents\[0\]\.headcount", "got 24 values"),
    ("headcount_by_interval wrong length", lambda d: (team(d).pop("headcount"), team(d).update(
        headcount_by_interval=[1, 2])), r"agents\[0\]\.headcount_by_interval", "got 2 values"),
    ("concurrency factors of the wrong length", lambda d: voice(d).update(concurrency=2, concurrency_factor=[1]),
     r"channels\.voice\.concurrency_factor", "got 1 values for concurrency 2"),
    ("both duration and end", lambda d: d.update(end="2026-11-24T00:00:00+01:00"), "end", "(got both)"),
    ("neither duration nor end", lambda d: d.pop("duration"), "duration", "(got neither)"),
    ("end before start", lambda d: (d.pop("duration"), d.update(end="2026-11-22T00:00:00+01:00")), "end",
     "must be after `start`"),
    ("warm-up longer than the horizon", lambda d: d.update(warmup="10h"), "warmup", "shorter than the horizon"),
    ("start without a time zone", lambda d: d.update(start="2026-11-23T00:00:00"), "start", "needs a time zone"),
    ("unknown time zone", lambda d: d.update(timezone="Mars/Olympus"), "timezone", "got 'Mars/Olympus'"),
    ("misspelt time zone", lambda d: d.update(timezone="Europe/Berln"), "timezone", "did you mean Europe/Berlin?"),
    # --- sizes that would exhaust memory ---
    ("huge arrival rate", lambda d: voice(d)["arrivals"].update(rate_per_hour=1e12), "channels",
     "exceeds the limit"),
    ("huge horizon", lambda d: d.update(duration="100000d"), "duration", "the horizon is at most"),
    ("huge headcount", lambda d: team(d).update(headcount=10**9), r"agents\[0\]\.headcount", "must be ≤ 100000"),
    ("huge replications", lambda d: d.update(replications=10**7), "replications", "must be ≤ 10000"),
    ("results too big for memory", lambda d: d.update(replications=10_000, duration="300d", interval="15min"),
     "replications", "result rows in memory"),
    ("empty name", lambda d: d.update(name=""), "name", "must not be empty"),
]


def scenario_file(tmp_path, spec) -> tuple:
    path = tmp_path / "scenario.yaml"
    if isinstance(spec, (str, bytes)):
        path.write_bytes(spec.encode() if isinstance(spec, str) else spec)
    else:
        data = copy.deepcopy(BASE)
        spec(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def check_lines(text: str, path, field: str, fragment: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no message"
    assert "Traceback" not in text
    for line in lines:
        assert LINE.match(line), f"not in FILE:LINE: field: what (got VALUE); fix form:\n{line}"
        assert line.startswith(f"{path}:"), line
    first = LINE.match(lines[0])
    assert re.fullmatch(field, first["path"]), lines[0]
    assert fragment in lines[0], lines[0]
    return lines


def test_the_catalogue_is_big_and_distinct():
    ids = [c[0] for c in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("name,spec,field,fragment", CASES, ids=[c[0] for c in CASES])
def test_every_command_gives_one_located_line_and_exit_2(tmp_path, name, spec, field, fragment):
    path = scenario_file(tmp_path, spec)
    runner = CliRunner()
    outputs = {}
    for command in (["validate"], ["run", "--no-report", "-o", str(tmp_path / "out")],
                    ["sweep", "--agents", "team=1:2:1", "-o", str(tmp_path / "out")],
                    ["staff", "-o", str(tmp_path / "out")]):
        res = runner.invoke(app, [command[0], str(path), *command[1:]])
        assert res.exit_code == 2, (command, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
        outputs[command[0]] = check_lines(res.stderr, path, field, fragment)
        assert res.stdout == ""
    assert len(set(map(tuple, outputs.values()))) == 1  # the same message whichever command read it
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def line_of(path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: voice(d)["handle_time"].update(mean=0), "mean: 0"),
    (lambda d: team(d).update(shrinkage=1.5), "shrinkage"),
    (lambda d: voice(d).update(handel_time=1), "handel_time"),
    (lambda d: team(d).update(skills=["voise"]), "voise"),
    (lambda d: voice(d)["arrivals"].update(rate_per_hour=[1] * 47 + [-1]), "- -1"),
])
def test_the_line_number_points_at_the_offending_line(tmp_path, mutate, needle):
    path = scenario_file(tmp_path, mutate)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert LINE.match(res.stderr.splitlines()[0])["line"] == str(line_of(path, needle)), res.stderr


def test_yaml_syntax_error_names_the_line_and_shows_it(tmp_path):
    path = scenario_file(tmp_path, "name: x\nduration: 4h\nchannels:\n  voice: [unclosed\nagents: []\n")
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert re.match(rf"^{re.escape(str(path))}:5: YAML syntax error: .+ \(got 'agents: \[\]'\); check", res.stderr)


def test_several_problems_give_several_lines(tmp_path):
    def many(d):
        voice(d)["handle_time"]["mean"] = 0
        team(d)["shrinkage"] = 2
        d["replicatons"] = 3
    path = scenario_file(tmp_path, many)
    res = CliRunner().invoke(app, ["validate", str(path)])
    lines = res.stderr.splitlines()
    assert res.exit_code == 2 and len(lines) == 3
    assert all(LINE.match(line) for line in lines)


def test_missing_and_oversized_files_are_file_level_messages(tmp_path, monkeypatch):
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and FILE_ONLY.match(res.stderr.strip()) and "file not found" in res.stderr
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 2 and "got a directory" in res.stderr
    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 100)
    path = scenario_file(tmp_path, lambda d: None)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and FILE_ONLY.match(res.stderr.strip()) and "file too large" in res.stderr


def test_a_real_process_prints_unwrapped_lines_and_no_traceback(tmp_path):
    """Outside the test runner too: stderr is a pipe, long messages must stay one line each."""
    path = scenario_file(tmp_path, lambda d: (voice(d)["service_level"].update(target=1.0, threshold=0),
                                              team(d).update(headcout=3)))
    for command in ("validate", "run"):
        proc = subprocess.run([sys.executable, "-m", "sim.cli", command, str(path)], capture_output=True,
                              text=True, env={**os.environ, "COLUMNS": "60"}, cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 2 and all(LINE.match(line) for line in lines), proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_valid_base_scenario_is_accepted(tmp_path):
    res = CliRunner().invoke(app, ["validate", str(scenario_file(tmp_path, lambda d: None))])
    assert res.exit_code == 0 and "OK" in res.stdout
