"""Decoding as one native call, for views that decode while the GUI is busy.

An eager PyTorch forward pass is a chain of small operator calls, and between two of them
the decoding thread must take Python's global interpreter lock back. While napari repaints
(Qt work done with the lock held), each of those hand-overs waits: on 2 cores a 4 ms decode
of the demo model took 24 ms on a slider's decoding thread. A traced decoder runs the whole
pass in PyTorch's graph executor without the lock, so it is no slower than alone (12 ms
there, see docs/benchmarks.md).

The trace keeps references to the model's parameters (it is not frozen), so weights that
change in place are seen; it records the evaluation-mode graph. A model that cannot be
traced, or a PyTorch without TorchScript, decodes eagerly as before.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np

__all__ = ["decode_traced"]

_lock = threading.Lock()
_FAILED = object()
#: Where a model keeps its traces: in its instance dict, not as a submodule, so they never
#: reach its state dict and go when it goes.
_ATTR = "_napari_latent_traces"


def decode_traced(model: Any, z: np.ndarray) -> dict[str, np.ndarray]:
    """``model.decode_numpy(z)`` for latents (D,) or (B, D), through a cached trace per batch size.

    Same result as :meth:`~napari_latent.model.MultimodalModel.decode_numpy` (float32 in
    data units, no batch axis for a 1-D ``z``); falls back to it when tracing is impossible.
    """
    import torch

    z2, single = model.latent_batch(z)
    traced = _trace_for(model, len(z2))
    if traced is None:
        return model.decode_numpy(z2[0] if single else z2)
    with torch.inference_mode():
        outputs = traced(torch.from_numpy(np.ascontiguousarray(z2)).to(model.device))
    out = {m: y.float().cpu().numpy() for m, y in zip(model.modalities, outputs, strict=True)}
    return {m: v[0] for m, v in out.items()} if single else out


def _trace_for(model: Any, batch: int) -> Any:
    """The trace of ``model``'s decoders for ``batch`` latents (None: not traceable)."""
    with _lock:
        per_model = model.__dict__.setdefault(_ATTR, {})
        key = (batch, str(model.device))
        traced = per_model.get(key)
        if traced is None:
            traced = per_model[key] = _trace(model, batch)
    return None if traced is _FAILED else traced


def _trace(model: Any, batch: int) -> Any:
    import torch

    class _Decoders(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = self.model.decode(z)
            return tuple(out[m] for m in self.model.modalities)

    was_training = model.training
    try:
        model.eval()
        example = torch.zeros(batch, model.latent_dim, device=model.device)
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # TorchScript is deprecated in favour of torch.export, which has no lock-free
            # runner on CPU without a C++ toolchain; the eager fallback covers its removal.
            warnings.simplefilter("ignore")
            return torch.jit.trace(_Decoders().eval(), example, check_trace=False)
    except Exception:  # noqa: BLE001 - any model that cannot be traced decodes eagerly
        return _FAILED
    finally:
        model.train(was_training)
