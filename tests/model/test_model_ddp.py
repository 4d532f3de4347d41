"""DistributedDataParallel: two CPU processes under torchrun (gloo) end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from safetensors.torch import load_file

import napari_latent

WORKER = textwrap.dedent(
    """
    import os, sys
    import numpy as np, pandas as pd, torch
    from safetensors.torch import save_file
    from napari_latent.cohort import Cohort
    from napari_latent.model import train

    torch.set_num_threads(1)
    out = sys.argv[1]
    rng = np.random.default_rng(0)  # the same cohort on every rank
    n = 20
    cohort = Cohort.from_arrays(
        pd.DataFrame({"subject_id": [f"S{i}" for i in range(n)]}),
        ecg_median=rng.normal(0, 0.3, (n, 12, 600)).astype(np.float32),
        mri=rng.uniform(0, 1, (n, 50, 96, 96)).astype(np.float16),
    )
    config = {"latent_dim": 4, "ecg_channels": [4, 4], "ecg_decoder_channels": [4], "mri_channels": [4, 4],
              "mri_decoder_channels": [4, 4], "groups": 2, "epochs": 2, "batch_size": 4, "seed": 0, "log_every": 1}
    events = []
    result = train(cohort, config, os.path.join(out, "ck"), callbacks=events.append)
    rank = int(os.environ["RANK"])
    weights = {k: v.contiguous() for k, v in result.model.state_dict().items()}
    save_file(weights, os.path.join(out, f"rank{rank}.safetensors"))
    with open(os.path.join(out, f"rank{rank}.txt"), "w") as f:
        f.write(f"{result.step} {result.status} {len(events)} {events[0]['world_size'] if events else 0}")
    """
)


def test_two_gloo_ranks_end_with_identical_weights(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    src = str(Path(napari_latent.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = load_file(str(tmp_path / "rank0.safetensors"))
    b = load_file(str(tmp_path / "rank1.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] == b[key]).all(), f"{key} differs between ranks"
    step0, status0, n_events0, world0 = (tmp_path / "rank0.txt").read_text().split()
    step1, status1, n_events1, _ = (tmp_path / "rank1.txt").read_text().split()
    # 16 training subjects split over 2 ranks, batch 4: 2 steps per epoch, 2 epochs
    assert step0 == step1 == "4" and status0 == status1 == "completed"
    assert int(world0) == 2 and int(n_events0) > 0 and int(n_events1) == 0  # callbacks run on rank 0 only
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "config.json",
        "training_state.safetensors",
        "weights.safetensors",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="torchrun rendezvous")
def test_single_process_context_without_torchrun(monkeypatch):
    from napari_latent.model.distributed import init_distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = init_distributed("cpu")
    assert not ctx.distributed and ctx.is_main and ctx.device.type == "cpu"
