"""Atomic writes: directory replacement (cohort stores, checkpoints) and new files that never replace one."""

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
