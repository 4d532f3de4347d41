"""The one way files and folders are published: replace_file, build_dir (and write_new_file)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent._atomic import build_dir, replace_file, write_new_file


def test_replace_file_replaces_only_when_asked_and_keeps_the_old_file_on_failure(tmp_path) -> None:
    path = tmp_path / "out.json"
    replace_file(path, lambda tmp: tmp.write_text("one"))
    assert path.read_text() == "one"
    with pytest.raises(FileExistsError, match="out.json"):
        replace_file(path, lambda tmp: tmp.write_text("two"), overwrite=False)

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        replace_file(path, broken)
    assert path.read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_replace_file_keeps_the_suffix_numpy_needs(tmp_path) -> None:
    path = replace_file(tmp_path / "cache.npz", lambda tmp: np.savez(tmp, a=np.arange(3)))
    with np.load(path) as data:
        np.testing.assert_array_equal(data["a"], np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.npz"]


def test_build_dir_publishes_a_finished_folder_or_nothing(tmp_path) -> None:
    target = tmp_path / "sub" / "folder"
    build_dir(target, lambda tmp: (tmp / "a.txt").write_text("a"), overwrite=False, exists_error=FileExistsError)
    assert (target / "a.txt").read_text() == "a"
    with pytest.raises(FileExistsError):
        build_dir(target, lambda tmp: (tmp / "b.txt").write_text("b"), overwrite=False, exists_error=FileExistsError)

    def broken(tmp):
        (tmp / "b.txt").write_text("b")
        raise RuntimeError("failed")

    with pytest.raises(RuntimeError):
        build_dir(target, broken, overwrite=True, exists_error=FileExistsError)
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    build_dir(target, lambda tmp: (tmp / "c.txt").write_text("c"), overwrite=True, exists_error=FileExistsError)
    assert sorted(p.name for p in target.iterdir()) == ["c.txt"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["folder"]


def test_write_new_file_never_replaces(tmp_path) -> None:
    path = write_new_file(tmp_path / "x.txt", lambda tmp: tmp.write_text("x"))
    with pytest.raises(FileExistsError):
        write_new_file(path, lambda tmp: tmp.write_text("y"))
    assert path.read_text() == "x"
