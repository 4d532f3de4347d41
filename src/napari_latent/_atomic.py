"""Atomic writes: the one way napari-latent publishes a file or a folder.

- :func:`write_new_file`: a new file that never replaces one (users' exports).
- :func:`replace_file`: a file that replaces an existing one only when asked (sessions,
  group exports, caches, state files).
- :func:`build_dir` / :func:`replace_dir`: a folder built beside its destination and renamed
  into place (cohort stores, checkpoints, example folders, trained models).

Each writes under a hidden temporary name in the destination's folder and renames it into
place, so a crash or an error never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


def replace_dir(src: Path, dst: Path, *, overwrite: bool, exists_error: Callable[[Path], Exception]) -> None:
    """Rename the finished directory ``src`` to ``dst``.

    An existing ``dst`` is replaced only with ``overwrite``; otherwise ``src`` is removed and
    ``exists_error(dst)`` raised. If the final rename fails, the old ``dst`` is put back.
    """
    if not dst.exists():
        os.replace(src, dst)
        return
    if not overwrite:
        shutil.rmtree(src, ignore_errors=True)
        raise exists_error(dst)
    old = dst.parent / f".{dst.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(dst, old)
    try:
        os.replace(src, dst)
    except BaseException:
        os.replace(old, dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def refuse_existing(*paths: str | os.PathLike) -> None:
    """Raise FileExistsError naming the first of ``paths`` that exists (a dangling link counts)."""
    for path in paths:
        if os.path.lexists(path):
            raise FileExistsError(f"{path} already exists; not overwriting it")


def publish_file(tmp: Path, dst: Path) -> None:
    """Move the finished ``tmp`` to ``dst`` unless ``dst`` exists (race-free where hard links work)."""
    try:
        os.link(tmp, dst)  # fails if dst exists, so nothing is ever replaced
    except FileExistsError:
        raise FileExistsError(f"{dst} already exists; not overwriting it") from None
    except OSError:  # a filesystem without hard links
        refuse_existing(dst)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def write_new_file(path: str | os.PathLike, write: Callable[[Path], object], *, parents: bool = False) -> Path:
    """Run ``write(tmp)`` on a temporary name beside ``path``, then publish it as ``path``.

    An existing ``path`` is never replaced (FileExistsError); a failed write leaves nothing.
    ``parents`` creates missing parent folders first.
    """
    dst = Path(path)
    refuse_existing(dst)
    if parents:
        dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        write(tmp)
        publish_file(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def replace_file(path: str | os.PathLike, write: Callable[[Path], object], *, overwrite: bool = True) -> Path:
    """Run ``write(tmp)`` on a temporary name beside ``path``, then rename it to ``path``.

    Parameters
    ----------
    path
        The file to publish.
    write
        Writes the content to the path it is given (which keeps ``path``'s suffix, so
        ``numpy.savez`` adds nothing).
    overwrite
        Whether an existing ``path`` may be replaced; without it FileExistsError is raised
        before anything is written.

    Returns
    -------
    pathlib.Path
        ``path``. A failed write leaves the old file (if any) as it was and no temporary file.
    """
    dst = Path(path)
    if not overwrite and os.path.lexists(dst):
        raise FileExistsError(f"{dst} exists; pass overwrite=True to replace it")
    tmp = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:12]}.tmp{dst.suffix}"
    try:
        write(tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def build_dir(
    path: str | os.PathLike,
    build: Callable[[Path], object],
    *,
    overwrite: bool,
    exists_error: Callable[[Path], Exception],
) -> Path:
    """Run ``build(tmp)`` in a new hidden folder beside ``path``, then publish it with :func:`replace_dir`.

    Parameters
    ----------
    path
        The folder to publish (its parent is created when missing).
    build
        Fills the temporary folder it is given.
    overwrite, exists_error
        As :func:`replace_dir`.

    Returns
    -------
    pathlib.Path
        ``path``. On any error the temporary folder is removed and ``path`` is left as it was.
    """
    dst = Path(path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        build(tmp)
        replace_dir(tmp, dst, overwrite=overwrite, exists_error=exists_error)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dst
