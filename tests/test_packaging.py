"""Release readiness: the wheel holds what napari and the napari hub need, and installs cleanly.

The fast test builds a wheel (a few seconds) and inspects it. The slow one builds sdist and
wheel with ``python -m build``, installs the wheel into a fresh virtual environment (no system
site-packages; PyTorch first) and checks the plugin from there.
"""

from __future__ import annotations

import email
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "napari_latent"
TORCH = "torch==2.13.0"
QT_BINDINGS = {"pyqt5", "pyqt6", "pyside2", "pyside6"}
PEP440 = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?$", re.IGNORECASE)


def _run(cmd: list[str], *, timeout: float, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **env},
    )  # fmt: skip
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def _build(out: Path, *which: str) -> Path:
    """``python -m build`` into ``out`` (``which``: "--wheel", "--sdist", or both when empty)."""
    _run([sys.executable, "-m", "build", *which, "--outdir", out, ROOT], timeout=600)
    wheels = list(out.glob("napari_latent-*-py3-none-any.whl"))
    assert len(wheels) == 1, f"expected one pure-Python wheel, got {[p.name for p in out.iterdir()]}"
    return wheels[0]


def _metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return email.message_from_bytes(wheel.read(name))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("dist"), "--wheel")


def test_wheel_holds_the_manifest_the_demo_model_and_every_module(wheel):
    with zipfile.ZipFile(wheel) as z:
        infos = {i.filename: i for i in z.infolist()}
        manifest = infos.get("napari_latent/napari.yaml")
        assert manifest is not None, "napari_latent/napari.yaml is missing from the wheel"
        mode = manifest.external_attr >> 16
        assert not stat.S_ISLNK(mode), "napari.yaml is stored as a symlink"
        assert z.read(manifest) == (ROOT / "napari.yaml").read_bytes()
        for name in ("weights.safetensors", "config.json", "metrics.json"):
            member = f"napari_latent/_data/demo_model/{name}"
            assert member in infos, f"{member} is missing from the wheel"
            assert infos[member].file_size == (PACKAGE / "_data" / "demo_model" / name).stat().st_size
        modules = {f"napari_latent/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")}
        missing = modules - set(infos)
        assert not missing, f"modules missing from the wheel: {sorted(missing)}"
        junk = [n for n in infos if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", ".venv"))]
        assert not junk, f"the wheel carries {junk[:5]}"
        entry_points = next(n for n in infos if n.endswith(".dist-info/entry_points.txt"))
        text = z.read(entry_points).decode()
        assert re.search(r"^\[napari\.manifest\]\s*\nnapari-latent = napari_latent:napari\.yaml$", text, re.MULTILINE)
        assert "napari-latent = napari_latent.cli:main" in text


def test_wheel_metadata_is_ready_for_the_napari_hub(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = _metadata(z)
    version = meta["Version"]
    assert PEP440.match(version) and not version.startswith("0.0.0"), version
    assert wheel.name.startswith(f"napari_latent-{version}-")
    assert "Framework :: napari" in meta.get_all("Classifier")
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in meta.get_all("Classifier"))
    assert meta["Requires-Python"] and meta["Summary"] and meta["License-Expression"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "bash scripts/setup.sh demo" in meta.get_payload()  # the README is the hub's description
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Documentation", "Source", "Bug Tracker", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    plain = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    names = {re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower() for r in plain}
    assert not names & QT_BINDINGS, f"a Qt binding is a hard dependency: {names & QT_BINDINGS}"


@pytest.mark.slow
def test_built_wheel_installs_into_a_clean_venv_and_validates(tmp_path):
    dist = tmp_path / "dist"
    wheel = _build(dist)  # sdist, then the wheel built from the sdist
    assert len(list(dist.glob("napari_latent-*.tar.gz"))) == 1
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    py = venv / "bin" / "python"
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    _run([py, "-m", "pip", "install", "-q", "--no-compile", TORCH], timeout=1800)
    _run([py, "-m", "pip", "install", "-q", "--no-compile", wheel], timeout=1800)

    # Readers, writers, sample data and menu commands import without napari or Qt; the widgets
    # are Qt classes, so --imports validates every python_name once a Qt binding is there.
    imported = _run([py, "-c", _IMPORT_NON_WIDGET_COMMANDS], timeout=300, cwd=tmp_path).stdout
    assert "napari-latent.get_reader" in imported and "napari-latent.write_nifti" in imported
    no_qt = "import importlib.util as u; print(any(u.find_spec(m) for m in ('PyQt5', 'PyQt6', 'PySide2', 'PySide6')))"
    assert _run([py, "-c", no_qt], timeout=120, cwd=tmp_path).stdout.strip() == "False"  # imported without Qt
    _run([py, "-m", "pip", "install", "-q", "--no-compile", "PyQt6"], timeout=1800)
    validate = _run([venv / "bin" / "npe2", "validate", "napari-latent", "--imports"], timeout=300, cwd=tmp_path)
    assert "valid!" in validate.stdout + validate.stderr
    check = (
        "import pathlib, napari_latent\n"
        "root = pathlib.Path(napari_latent.__file__).parent\n"
        "assert 'site-packages' in str(root), root\n"
        "manifest = root / 'napari.yaml'\n"
        "assert manifest.is_file() and not manifest.is_symlink()\n"
        "assert (root / '_data' / 'demo_model' / 'weights.safetensors').is_file()\n"
        "from napari_latent.model import load_demo_model\n"
        "model = load_demo_model()\n"
        "print(napari_latent.__version__, type(model).__name__, model.latent_dim)\n"
    )
    out = _run([py, "-c", check], timeout=300, cwd=tmp_path).stdout.split()
    with zipfile.ZipFile(wheel) as z:
        assert out[0] == _metadata(z)["Version"]
    _run([venv / "bin" / "napari-latent", "--help"], timeout=120, cwd=tmp_path)


_IMPORT_NON_WIDGET_COMMANDS = """
import importlib, npe2
manifest = npe2.PluginManifest.from_distribution("napari-latent")
widgets = {w.command for w in manifest.contributions.widgets}
for command in manifest.contributions.commands:
    if command.id in widgets or not command.python_name:
        continue
    module, _, attr = command.python_name.partition(":")
    getattr(importlib.import_module(module), attr)
    print("IMPORTED", command.id)
"""

_OPEN_EVERY_WIDGET = """
import npe2, napari
viewer = napari.Viewer(show=False)  # napari discovers the installed plugins here
names = [w.display_name for w in npe2.PluginManager.instance().get_manifest("napari-latent").contributions.widgets]
assert names, "no widgets contributed"
for name in names:
    dock, widget = viewer.window.add_plugin_dock_widget("napari-latent", name)
    assert widget.viewer is not None, name
    print("OPENED", name)
viewer.close()
"""


@pytest.mark.slow
def test_wheel_in_a_stock_napari_pyqt6_venv_opens_every_widget_through_the_plugin_path(tmp_path):
    """A newcomer's install: ``pip install napari[pyqt6] napari-latent`` in a fresh venv, then every
    widget through ``add_plugin_dock_widget`` (napari injects the viewer), as the Plugins menu does."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        pytest.skip("needs a display (run under xvfb-run)")
    wheel = _build(tmp_path / "dist", "--wheel")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "--no-compile", TORCH], timeout=1800)
    _run([py, "-m", "pip", "install", "-q", "--no-compile", wheel, "napari[pyqt6]"], timeout=1800)
    env = {"NAPARI_CONFIG": str(tmp_path / "napari-settings.yaml"), "NAPARI_LATENT_CACHE": str(tmp_path / "cache")}
    out = _run([py, "-c", _OPEN_EVERY_WIDGET], timeout=600, cwd=tmp_path, **env).stdout
    opened = [line.removeprefix("OPENED ") for line in out.splitlines() if line.startswith("OPENED ")]
    assert {"Latent Space Explorer", "Cohort subject browser", "Import cohort", "Open cine or ECG"} <= set(opened)
