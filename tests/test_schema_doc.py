"""The scenario reference is generated from the schema, so the docs cannot drift from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.schema_doc import END, START, extract_readme_section, readme_section, scenario_reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_docs_file_is_current():
    doc = ROOT / "docs" / "scenario-reference.md"
    assert doc.read_text(encoding="utf-8") == scenario_reference_markdown(), \
        "docs/scenario-reference.md is stale; run `python -m sim.schema_doc --write`"


def test_readme_links_to_the_reference_instead_of_repeating_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert extract_readme_section(readme) is None and START not in readme and END not in readme
    assert "### Scenario file (Scenario)" not in readme and "](docs/scenario-reference.md)" in readme


def test_old_readme_markers_are_still_rewritten(tmp_path):
    (tmp_path / "README.md").write_text(f"intro\n{START}\nold\n{END}\nrest\n", encoding="utf-8")
    from sim.schema_doc import write

    write(tmp_path)
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == f"intro\n{readme_section()}\nrest\n"


def test_every_field_is_described_and_times_read_as_written():
    """No key without a description (the Bot's had none), no raw regex in the type column, and defaults as a
    planner writes them: `30min`, `0s`, `00:00`, `24:00`."""
    from sim.scenario import Scenario

    schema = Scenario.model_json_schema()
    missing = [f"{name}.{key}" for name, node in [("Scenario", schema), *schema["$defs"].items()]
               for key, prop in node.get("properties", {}).items()
               if not prop.get("description") or prop["description"].startswith("a duration: seconds")]
    assert missing == []
    text = scenario_reference_markdown()
    assert "matching `" not in text and "^\\s*" not in text and "\\d{1,2}" not in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert "| `30min` |" in rows["`interval`"] and "| `0s` |" in rows["`warmup`"]
    opening = text.split("### OpeningHours", 1)[1].split("###", 1)[0]
    assert "| `00:00` | opens at" in opening and "| `24:00` | closes at" in opening
    bot = text.split("### Bot\n", 1)[1].split("###", 1)[0]
    assert all(row.rstrip().endswith("|") and row.split("|")[5].strip() for row in bot.splitlines()
               if row.startswith("| `"))


def test_every_model_and_key_of_the_schema_is_documented():
    from sim.scenario import Scenario

    text = scenario_reference_markdown()
    schema = Scenario.model_json_schema()
    for name, node in [("Scenario", schema), *schema["$defs"].items()]:
        for key in node.get("properties", {}):
            assert f"| `{key}` |" in text, f"{name}.{key} missing from the reference"
    for name in schema["$defs"]:
        assert f"### {name}\n" in text


class _Bot(BaseModel):
    """A chat bot in front of the queue."""

    model_config = ConfigDict(extra="forbid")
    containment: float = Field(0.3, ge=0, le=1, description="share resolved by the bot")
    mode: Literal["deflect", "triage"] = "triage"


class _Demo(BaseModel):
    """A scenario with a field added later."""

    name: str = Field(min_length=1)
    bots: dict[str, _Bot] = Field(default_factory=dict)


def test_generator_is_generic_for_new_models_and_fields():
    text = scenario_reference_markdown(_Demo)
    assert "### _Bot" in text and "A chat bot in front of the queue." in text
    assert "| `containment` | number (≥ 0, ≤ 1) |  | `0.3` | share resolved by the bot |" in text
    assert "| `mode` | one of `deflect`, `triage` |" in text
    assert "| `bots` | mapping of name → [_Bot](#_bot) |" in text
    assert "| `name` | text (not empty) | yes |" in text
