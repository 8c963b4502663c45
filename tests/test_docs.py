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
    for package in ("archive", "index", "publish", "shell"):
        for f in sorted((ROOT / package).glob("*.py")):
            if f.name != "__init__.py":
                assert f"{package}/{f.name}" in design or f.name in design, f"{package}/{f.name}"


def test_no_import_cycle_among_the_projects_modules():
    """archive -> index -> publish -> shell -> cli, and no module imports one that imports it back
    (directly or through others), lazily or not."""
    import ast

    mods: dict[str, Path] = {"cli": ROOT / "cli.py"}
    for package in ("archive", "index", "publish", "shell"):
        for f in (ROOT / package).glob("*.py"):
            mods[f"{package}.{f.stem}" if f.stem != "__init__" else package] = f
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # from .x import y / from . import x
                    pkg = name.rsplit(".", 1)[0]
                    base = pkg if not node.module else f"{pkg}.{node.module}"
                    targets = [base] + [f"{base}.{a.name}" for a in node.names]
                else:
                    targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps.update(t for t in targets if t in mods and t != name)
        graph[name] = deps
    order = {"archive": 0, "index": 1, "publish": 2, "shell": 3, "cli": 4}
    for name, deps in graph.items():  # one way: never a later layer from an earlier one
        for d in deps:
            assert order[d.split(".")[0]] <= order[name.split(".")[0]], (name, d)

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for d in graph[todo.pop()]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    cycles = [name for name in graph if name in reach(name)]
    assert cycles == [], cycles
