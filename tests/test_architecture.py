"""The architecture's rules as tests: no import cycles, one installed namespace, settings read in one
place, lazy imports justified. (The layer contracts themselves run as `lint-imports` in `make lint`.)"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import grimp
import pytest

from clearhouse.settings import ENVIRONMENT, REPO_ROOT

#: the folders installed as sub-packages of clearhouse (symlinks in clearhouse/)
MAPPED = {"privacy": "privacy", "lineage": "lineage", "validation": "expectations"}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the import cycles of a module graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root, children_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(children_of_root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_cycle_finder_finds_a_cycle() -> None:
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_any_two_modules() -> None:
    graph = grimp.build_graph("clearhouse")
    modules = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert len(modules) > 80
    assert _strongly_connected(modules) == []


def _product_files() -> list[Path]:
    files = [p for p in (REPO_ROOT / "clearhouse").rglob("*.py") if not set(p.parts) & set(MAPPED)]
    for folder in MAPPED.values():
        files += list((REPO_ROOT / folder).rglob("*.py"))
    return files


#: environment reads allowed outside clearhouse/settings.py, each with why
ENV_READS_ALLOWED = {
    # the Airflow child inherits the parent's environment (then gets ours and Airflow's on top)
    "clearhouse/runs/embedded.py",
    # a LocalKeyringProvider built without `env` (library use) reads the declared master-key variables
    "privacy/crypto/local_keyring.py",
    # the HTTP lineage sink reads the API key from a variable its configuration names (never stored)
    "lineage/sinks/http.py",
}


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv", "environb"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
    return lines


def test_settings_are_read_in_one_place() -> None:
    offenders = []
    for path in _product_files():
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel == "clearhouse/settings.py" or rel in ENV_READS_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for lineno in _reads_environment(tree):
            line = path.read_text(encoding="utf-8").splitlines()[lineno - 1]
            # writes that switch a library's analytics off are not reads of our settings
            if re.search(r"os\.environ\[\"GX_ANALYTICS_ENABLED\"\]\s*=", line):
                continue
            offenders.append(f"{rel}:{lineno}: {line.strip()}")
    assert offenders == []


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in ENVIRONMENT if f"`{name}`" not in readme]
    assert missing == []
    assert all(description for _, description in ENVIRONMENT.values())


def test_every_lazy_import_says_why() -> None:
    bare = []
    for path in _product_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "noqa: PLC0415" in line and not re.search(r"noqa: PLC0415 - \S", line):
                bare.append(f"{path.relative_to(REPO_ROOT)}:{lineno}")
    assert bare == []


def test_top_level_folders_cannot_be_imported_under_their_bare_names() -> None:
    for folder in MAPPED.values():
        code = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); import {folder}"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert out.returncode != 0
        assert "is not a top-level package" in out.stderr


@pytest.mark.slow
def test_wheel_installs_only_the_clearhouse_namespace(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("clearhouse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"clearhouse"}
    for sub, _folder in MAPPED.items():
        assert f"clearhouse/{sub}/__init__.py" in names
    assert "clearhouse/validation/suites/support_tickets.json" in names
    assert "clearhouse/privacy/detection/text.py" in names
