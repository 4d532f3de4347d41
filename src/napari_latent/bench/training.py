"""Training group: optimiser steps per second for the network presets, on CPU and, when there is
one, on a CUDA GPU with bf16 autocast, with the fraction of the GPU's bf16 dense peak reached.

The data is a synthetic in-memory stream (random ECG beats and cines of the real shapes), so
the numbers measure the model and optimiser, not the store; on CUDA the stream is as long as
an epoch of a 40,000-subject cohort in a full run. Model FLOPs per subject (forward and
backward) come from ``torch.utils.flop_counter.FlopCounterMode``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from .runner import BenchContext

LATENT_DIM = 256
COHORT_SUBJECTS = 40_000

#: Peak dense bf16 tensor-core TFLOPS (no sparsity) of known GPUs.
PEAK_BF16_TFLOPS: dict[str, float] = {
    "H100 SXM": 989.0,
    "H100 PCIe": 756.0,
    "H200": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "RTX 4090": 165.0,
}


def peak_bf16_tflops(gpu_name: str) -> tuple[str, float] | None:
    """(table entry, peak bf16 dense TFLOPS) for a CUDA device name, or None for an unknown GPU.

    An H100 that says neither PCIe nor NVL is taken to be the SXM part.
    """
    name = gpu_name.upper().replace("-", " ")
    if "H200" in name:
        key = "H200"
    elif "H100" in name:
        if "NVL" in name:
            return None
        key = "H100 PCIe" if "PCIE" in name else "H100 SXM"
    elif "A100" in name:
        key = "A100"
    elif "L40S" in name:
        key = "L40S"
    elif "4090" in name:
        key = "RTX 4090"
    else:
        return None
    return key, PEAK_BF16_TFLOPS[key]


def synthetic_batches(batch_size: int, device: Any, count: int = 4, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` batches of random data with the model's input shapes, already on ``device``."""
    import torch

    from ..model import SHAPES

    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        out.append(
            {
                "ecg": (0.1 * torch.randn(batch_size, *SHAPES["ecg"], generator=g)).to(device),
                "mri": torch.rand(batch_size, *SHAPES["mri"], generator=g).to(device),
                "index": torch.arange(batch_size).to(device),
            }
        )
    return out


def build(preset: str, device: Any):
    """A freshly initialised cross-modal VAE of network preset ``preset`` (latent 256), training mode."""
    import torch

    from ..model import NETWORK_SIZES, build_model

    torch.manual_seed(0)
    return build_model({"latent_dim": LATENT_DIM, **NETWORK_SIZES[preset]}).to(device).train()


def _autocast(device: Any, bf16: bool):
    import torch

    return torch.autocast("cuda", dtype=torch.bfloat16) if bf16 and device.type == "cuda" else contextlib.nullcontext()


def flops_per_subject(model, batch: dict[str, Any], bf16: bool = False) -> float:
    """Model FLOPs of one training step (forward + backward) divided by the batch size."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, _autocast(batch["ecg"].device, bf16):
        loss = model(batch)["loss"]
    with counter:
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(batch["index"])


def train_throughput(
    model, batches: list[dict[str, Any]], steps: int, *, bf16: bool = False, warmup: int = 2
) -> dict[str, float]:
    """Subjects/s of ``steps`` AdamW steps (gradient clipping as the trainer does), cycling ``batches``."""
    import torch

    device = batches[0]["ecg"].device
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)

    def step(batch) -> None:
        with _autocast(device, bf16):
            loss = model(batch)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for i in range(warmup):
        step(batches[i % len(batches)])
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    sync()
    wall = time.perf_counter() - t0
    b = len(batches[0]["index"])
    return {"subjects_per_s": steps * b / wall, "step_ms": 1e3 * wall / steps, "steps": steps, "batch": b}


def run(ctx: BenchContext) -> None:
    import torch

    cpu = torch.device("cpu")
    batch = 32
    steps = ctx.pick(2, 20)
    data = synthetic_batches(batch, cpu, count=2)
    for preset in ("tiny", "small"):
        model = build(preset, cpu)
        flops = flops_per_subject(model, data[0])
        r = train_throughput(model, data, steps, warmup=1)
        ctx.add(
            f"training throughput, {preset} preset, CPU fp32, {torch.get_num_threads()} threads",
            r["subjects_per_s"],
            "subjects/s",
            notes=f"batch {batch}, {steps} steps of {r['step_ms']:.0f} ms; {flops / 1e9:.2f} GFLOP a subject "
            f"(forward + backward) -> {flops * r['subjects_per_s'] / 1e9:.1f} GFLOP/s",
        )
        del model
    if not torch.cuda.is_available():
        ctx.add(
            "training throughput on a CUDA GPU, bf16", None, status="no GPU", notes="torch.cuda.is_available() is False"
        )
        return
    run_cuda(ctx)


def run_cuda(ctx: BenchContext) -> None:
    """bf16 autocast against fp32 on CUDA device 0, small and full presets, fraction of bf16 peak."""
    import torch

    dev = torch.device("cuda", 0)
    name = torch.cuda.get_device_name(dev)
    peak = peak_bf16_tflops(name)
    batch = 256
    bf16_steps = ctx.pick(10, COHORT_SUBJECTS // batch)
    fp32_steps = ctx.pick(5, 40)
    data = synthetic_batches(batch, dev, count=4)
    for preset in ("small", "full"):
        model = build(preset, dev)
        flops = flops_per_subject(model, data[0], bf16=True)
        fast = train_throughput(model, data, bf16_steps, bf16=True, warmup=3)
        base = train_throughput(build(preset, dev), data, fp32_steps, bf16=False, warmup=3)
        epoch = COHORT_SUBJECTS / fast["subjects_per_s"]
        ctx.add(
            f"training throughput, {preset} preset, {name}, bf16 autocast",
            fast["subjects_per_s"],
            "subjects/s",
            baseline="fp32 (no autocast; cuDNN's TF32 default for convolutions), same run",
            baseline_value=base["subjects_per_s"],
            notes=f"batch {batch}, {fast['steps']} steps ({fast['steps'] * batch:,} subjects); a "
            f"{COHORT_SUBJECTS:,}-subject epoch in {epoch:.0f} s",
        )
        achieved = flops * fast["subjects_per_s"]
        if peak is None:
            ctx.add(
                f"fraction of bf16 peak, {preset} preset",
                None,
                status="unknown GPU",
                notes=f"{name} is not in the peak table; achieved {achieved / 1e12:.1f} TFLOPS "
                f"({flops / 1e9:.2f} GFLOP a subject)",
            )
        else:
            key, tflops = peak
            ctx.add(
                f"fraction of bf16 peak, {preset} preset",
                100 * achieved / (tflops * 1e12),
                "%",
                notes=f"{achieved / 1e12:.1f} TFLOPS achieved of {key} {tflops:.0f} TFLOPS dense bf16; "
                f"{flops / 1e9:.2f} GFLOP a subject (forward + backward, FlopCounterMode)",
            )
        del model
        torch.cuda.empty_cache()
