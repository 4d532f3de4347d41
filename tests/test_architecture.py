"""The layers stay apart: the core imports no GUI, nothing imports the npe2 adapter back,
no function grows past 150 lines and widgets/ stays sorted into sub-packages (static checks)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "napari_latent"
CORE = ("cohort", "io", "model", "analysis", "explorer.py")
GUI = ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "napari", "vispy", "magicgui", "superqt")
MAX_FUNCTION_LINES = 150
MAX_WIDGET_MODULES = 10


def _modules(*parts: str) -> list[Path]:
    out: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every import outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = package or ".".join(("napari_latent", *path.relative_to(PACKAGE).with_suffix("").parts))
    if path.name == "__init__.py":
        package += ".__init__"
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def test_the_analysis_sees_every_kind_of_import(tmp_path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nimport napari\nfrom ..widgets import views\n"
        "if TYPE_CHECKING:\n    import qtpy\ndef f():\n    from vispy import scene\n"
    )
    modules = [m for _, m in _imports(sample, "napari_latent.model.probe")]
    assert "napari" in modules and "napari_latent.widgets.views" in modules and "vispy" in modules
    assert "qtpy" not in modules


@pytest.mark.parametrize("path", _modules(*CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_imports_no_gui_and_no_view_layer(path: Path) -> None:
    forbidden = GUI + ("napari_latent.widgets", "napari_latent._napari")
    bad = [f"line {line}: {module}" for line, module in _imports(path) if _within(module, forbidden)]
    assert not bad, f"{path.relative_to(PACKAGE)} imports a GUI or view module: {bad}"


@pytest.mark.parametrize("path", _modules(*CORE, "widgets"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_npe2_adapter_back(path: Path) -> None:
    bad = [f"line {line}: {module}" for line, module in _imports(path) if _within(module, ("napari_latent._napari",))]
    assert not bad, f"{path.relative_to(PACKAGE)} imports napari_latent._napari: {bad}"


def test_no_function_is_longer_than_150_lines() -> None:
    long = []
    for path in _modules("."):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_widgets_is_sorted_into_sub_packages() -> None:
    flat = sorted(p.name for p in (PACKAGE / "widgets").glob("*.py"))
    assert len(flat) <= MAX_WIDGET_MODULES, f"{len(flat)} modules directly in widgets/: {flat}"
    for sub in ("views", "standalone", "plots", "_qt"):
        assert (PACKAGE / "widgets" / sub / "__init__.py").is_file()
