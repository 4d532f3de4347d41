"""What the benchmarks ran on: CPU, cores, memory, GPU, load, library versions, date."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["cpu_model", "gpu_name", "load_average", "machine_info", "opengl_renderer", "ram_gib"]

_VERSIONS = ("torch", "napari", "vispy", "numpy", "scikit-learn", "openTSNE", "pacmap", "umap-learn", "matplotlib")


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def ram_gib() -> float | None:
    """Physical memory in GiB, or None when it cannot be read."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):
        try:
            import psutil

            return round(psutil.virtual_memory().total / 2**30, 1)
        except Exception:  # noqa: BLE001 - informational only
            return None


def gpu_name() -> str | None:
    """Name of CUDA device 0, or None when torch sees no CUDA GPU."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - informational only: a broken CUDA set-up reads as no GPU
        return None
    return None


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """A JSON-friendly description of this machine and software, taken now."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    import torch

    gpu = gpu_name()
    info: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": usable,
        "ram_gib": ram_gib(),
        "gpu": gpu or "none",
        "cuda": torch.version.cuda if gpu else None,
        "torch_threads": torch.get_num_threads(),
        "load_avg_start": load_average(),
    }
    info.update({f"{d}_version": _version(d) for d in _VERSIONS})
    return info


def opengl_renderer() -> str:
    """The OpenGL renderer string of a throw-away vispy canvas (needs a display and Qt)."""
    try:
        from vispy import gloo, scene

        canvas = scene.SceneCanvas(show=False)
        try:
            canvas.render()
            return str(gloo.gl.glGetParameter(gloo.gl.GL_RENDERER))
        finally:
            canvas.close()
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"unknown ({type(exc).__name__})"
