"""The documentation site builds with ``mkdocs build --strict`` and every picture it shows exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Absolute links to this repository (README, for PyPI and the napari hub) map to local files.
REPO_URLS = (
    "https://raw.githubusercontent.com/napari-latent/napari-latent/main/",
    "https://github.com/napari-latent/napari-latent/blob/main/",
)
_IMAGE = re.compile(
    r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\s[^>]*src=[\"']([^\"']+)[\"']", re.IGNORECASE
)
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?[^)]*\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _mkdocs(config: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _markdown_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) + [ROOT / "README.md", ROOT / "CHANGELOG.md"]


def _local_target(source: Path, ref: str) -> Path | None:
    """The file a link or image reference points at, or None for links elsewhere."""
    ref = ref.split("#", 1)[0].split("?", 1)[0]
    for prefix in REPO_URLS:
        if ref.startswith(prefix):
            return ROOT / ref[len(prefix) :]
    if not ref or re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.IGNORECASE):  # http:, mailto:, data: ...
        return None
    return (source.parent / ref).resolve()


def test_site_builds_strict(tmp_path):
    result = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site", cwd=tmp_path)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    site = tmp_path / "site"
    for page in ("getting-started", "tour", "scripting", "data-format", "model-card", "benchmarks",
                 "reliability", "faq", "changelog"):  # fmt: skip
        assert (site / page / "index.html").is_file(), f"the site has no {page} page"
    # the API reference is generated from the docstrings: each page shows its objects
    for page, name in (("api/explorer", "set_model"), ("api/cohort", "open_cohort"), ("api/io", "read_cine"),
                       ("api/model", "resolve_model"), ("api/analysis", "load_and_embed")):  # fmt: skip
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert f'id="napari_latent.' in html and name in html, f"the {page} page does not document {name}"
    assert (site / "architecture" / "index.html").is_file(), "the site has no architecture page"
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    first_entry = next(line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("- "))
    assert re.sub(r"\*\*|`", "", first_entry[2:40]) in re.sub(r"<[^>]+>", "", changelog), (
        "the Changelog page does not include CHANGELOG.md"
    )
    for image in (site / "images").glob("*.png"):
        assert image.read_bytes()[:8] == PNG_MAGIC


def test_strict_build_fails_on_a_broken_link(tmp_path):
    """The strictness is real: a copy of the docs with one dead link does not build."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("images"))
    (tmp_path / "docs" / "images").mkdir()
    for page in re.findall(r":\s*([\w-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE):
        if not (tmp_path / "docs" / page).exists():  # a page another change has yet to add
            (tmp_path / "docs" / page).write_text(f"# {page}\n")
    for png in DOCS.joinpath("images").glob("*.png"):
        (tmp_path / "docs" / "images" / png.name).write_bytes(PNG_MAGIC)
    with (tmp_path / "docs" / "faq.md").open("a") as f:
        f.write("\nSee [the missing page](no-such-page.md).\n")
    result = _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site", cwd=tmp_path)
    assert result.returncode != 0
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "WARNING" in line]
    assert problems and all("no-such-page.md" in line for line in problems), problems


def test_every_referenced_image_exists_and_is_a_png():
    seen = 0
    for md in _markdown_files():
        if not md.is_file():
            continue
        for match in _IMAGE.finditer(md.read_text(encoding="utf-8")):
            ref = match.group(1) or match.group(2)
            target = _local_target(md, ref)
            assert target is not None, f"{md.relative_to(ROOT)}: image {ref} is not in this repository"
            assert target.is_file(), f"{md.relative_to(ROOT)}: image {ref} does not exist"
            assert target.read_bytes()[:8] == PNG_MAGIC or target.suffix.lower() != ".png", (
                f"{md.relative_to(ROOT)}: {ref} is not a PNG (a Git LFS pointer?)"
            )
            seen += 1
    assert seen >= 10  # the tour shows every view


def test_readme_links_into_the_repository_resolve():
    readme = ROOT / "README.md"
    for match in _LINK.finditer(readme.read_text(encoding="utf-8")):
        ref = match.group(1) or match.group(2)
        target = _local_target(readme, ref)
        if target is not None:
            assert target.exists(), f"README.md links to {ref}, which does not exist"


def test_getting_started_repeats_the_readme_commands_exactly():
    commands = re.findall(r"^bash scripts/setup\.sh .*$", (ROOT / "README.md").read_text(), re.MULTILINE)
    assert len(commands) == 2
    guide = (DOCS / "getting-started.md").read_text()
    for command in commands:
        assert command in guide.splitlines(), f"docs/getting-started.md lacks: {command}"


def test_changelog_keeps_a_changelog_format():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    sections = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert sections and sections[0] == "Unreleased"
    for name in sections:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", text, re.MULTILINE), f"no link for [{name}]"
    kinds = set(re.findall(r"^### (\w+)", text, re.MULTILINE))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
