"""Generating a cohort resumably: an interrupted generation keeps its work and the next one finishes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_latent.cohort import CohortError
from napari_latent.cohort.synthetic import generate_cohort


def test_an_interrupted_generation_resumes_where_it_stopped(tmp_path):
    path = tmp_path / "cohort.zarr"
    seen: list[int] = []

    def stop_after_three() -> bool:
        return len(seen) >= 3

    with pytest.raises(InterruptedError):
        generate_cohort(6, 5, path, workers=1, resume=True, progress=lambda done, n: seen.append(done), should_stop=stop_after_three)
    assert not path.exists()
    partial = tmp_path / ".cohort.zarr.partial"
    assert partial.is_dir()  # the written subjects are kept

    progress: list[tuple[int, int]] = []
    cohort = generate_cohort(6, 5, path, workers=1, resume=True, progress=lambda done, n: progress.append((done, n)))
    assert progress[0] == (3, 6)  # the three subjects already written are not generated again
    assert progress[-1] == (6, 6) and len(progress) == 4
    assert not partial.exists()

    fresh = generate_cohort(6, 5)  # in memory, from scratch
    pd.testing.assert_frame_equal(cohort.subjects.reset_index(drop=True), fresh.subjects.reset_index(drop=True), check_dtype=False)
    for i in (0, 4):
        np.testing.assert_array_equal(cohort.subject(i).mri, fresh.subject(i).mri)


def test_resuming_into_another_cohort_is_refused(tmp_path):
    path = tmp_path / "cohort.zarr"
    with pytest.raises(InterruptedError):
        generate_cohort(4, 1, path, workers=1, resume=True, should_stop=lambda: True)
    with pytest.raises(CohortError, match="interrupted generation of another cohort"):
        generate_cohort(5, 1, path, workers=1, resume=True)
