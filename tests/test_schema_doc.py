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


def test_readme_section_is_current():
    readme = ROOT / "README.md"
    section = extract_readme_section(readme.read_text(encoding="utf-8")) if readme.is_file() else None
    assert section is not None, f"README.md lost its {START} … {END} section"
    assert section == readme_section(), "README scenario reference is stale; run `python -m sim.schema_doc --write`"


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
