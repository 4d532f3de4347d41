"""Atomic directory replacement shared by the cohort store and model checkpoints."""

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
