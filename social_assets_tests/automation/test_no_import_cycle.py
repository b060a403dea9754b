"""The checks (defs/checks.py) and `health` share what data quality means through a neutral
module (social_assets/quality.py) and never import each other, at module or function level."""

from __future__ import annotations

import ast
from pathlib import Path

import social_assets

PACKAGE = Path(social_assets.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every social_assets module the file imports, wherever the import is, except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in node.body for n in ast.walk(child)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("social_assets")}


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in modules and i != name} for name, path in modules.items()}


def reaches(graph: dict[str, set[str]], start: str, target: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current not in seen:
            seen.add(current)
            todo += graph.get(current, ())
    return False


def test_checks_and_health_share_a_neutral_module_and_do_not_import_each_other():
    graph = import_graph()
    checks, health, quality = "social_assets.defs.checks", "social_assets.health", "social_assets.quality"
    assert quality in graph[checks] and quality in graph[health]
    assert not reaches(graph, checks, health) and not reaches(graph, health, checks)
    for module in (checks, health, quality):  # none of them is on an import cycle
        assert not any(reaches(graph, dependency, module) for dependency in graph[module]), module


def test_the_check_names_of_the_dagster_checks_are_those_of_the_neutral_list():
    from social_assets.defs.checks import PARTITION_SPECS, check_name
    from social_assets.quality import BLOCKING_PARTITION_CHECKS, PARTITION_CHECKS

    assert [check_name(s.key) for s in PARTITION_SPECS] == [c.check_name for c in PARTITION_CHECKS]
    assert {check_name(s.key) for s in PARTITION_SPECS if s.blocking} == BLOCKING_PARTITION_CHECKS == {
        "normalized/posts:unique_keys", "normalized/comments:unique_keys", "normalized/profiles:unique_keys",
        "normalized/comments:known_posts", "normalized/posts:quality_score",
    }
