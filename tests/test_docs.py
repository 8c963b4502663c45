"""Docs that cannot drift: the command reference is what the commands say, every command
and option is in it, every command is in the README, and DESIGN.md names every module
(as sqlite-utils checks its CLI reference against its code)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cli

ROOT = Path(__file__).resolve().parent.parent


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_cli_reference", ROOT / "docs" / "make_cli_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_is_current():
    current = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert current == _reference_module().reference(), (
        "docs/cli.md is stale: run `python docs/make_cli_reference.py`")


def test_every_command_and_option_is_documented():
    reference = (ROOT / "docs" / "cli.md").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    for name, command in cli.main.commands.items():
        assert f"## `reviews {name}`" in reference, name
        assert f"reviews {name}" in readme, f"README does not show `reviews {name}`"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in reference, (name, opt)


def test_design_names_every_module():
    design = (ROOT / "docs" / "DESIGN.md").read_text("utf-8")
    for package in ("archive", "index", "publish"):
        for f in sorted((ROOT / package).glob("*.py")):
            if f.name != "__init__.py":
                assert f"{package}/{f.name}" in design or f.name in design, f"{package}/{f.name}"
