"""What the Explorer's semantic API does: calibrated directions, measurements, typicality, uncertainty.

Kept out of ``explorer.py`` so the session class stays a thin state holder; each function
takes the :class:`~napari_latent.explorer.Explorer` and uses its public API only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .calibration import MEASURE_OF, Relation, fit_relation, measure_decoded, measure_outputs, pick, relations_of
from .reference import reference_of, unpack_mask

if TYPE_CHECKING:
    from ..explorer import Explorer
    from .directions import Direction

__all__ = ["explorer_direction", "measure_for", "assess_for", "uncertainty_for", "split_for", "territory_for"]

CALIBRATION_SUBJECTS = 32
CHECK_SUBJECTS = 24


def territory_for(ex: Explorer) -> np.ndarray | None:
    """Where the LV lies in this model's cines: from its reference, else from the cohort's labels."""
    ref = reference_of(ex.model)
    if ref and "lv_territory" in ref:
        return unpack_mask(ref["lv_territory"])
    if "labels" in ex.cohort.array_names:
        from .measure import lv_territory

        return lv_territory(ex.cohort.read("labels", pick(np.arange(len(ex.cohort)), 64)))
    return None


def split_for(ex: Explorer) -> tuple[np.ndarray, np.ndarray]:
    """``(training-side, held-out)`` row indices of this cohort for the model.

    The model's own held-out subjects when the cohort is (a prefix of) the one it was trained
    on; otherwise a fixed random half of the cohort.
    """
    n = len(ex.cohort)
    data = (ex.model.info or {}).get("data", {}) if ex.model is not None else {}
    if data.get("val_indices") and str(ex.cohort.attrs.get("source")) == str(data.get("cohort_source")):
        val = data["val_indices"]
        val = np.asarray(json.loads(val) if isinstance(val, str) else val, dtype=np.int64)
        held = np.zeros(n, bool)
        held[val[val < n]] = True
        if held.sum() >= 4 and (~held).sum() >= 4:
            return np.flatnonzero(~held), np.flatnonzero(held)
    order = np.random.default_rng(0).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])


def _decode(ex: Explorer):
    model = ex.model

    def decode(z: np.ndarray) -> dict[str, np.ndarray]:
        return model.decode_numpy(np.asarray(z, np.float32))

    return decode


def relation_for(ex: Explorer, column: str, train: np.ndarray, territory: np.ndarray | None) -> Relation | None:
    """The cohort's relation of ``column`` to its decoded measurement (reference, else fitted here)."""
    rel = relations_of(reference_of(ex.model)).get(column)
    if rel is not None:
        return rel
    key = MEASURE_OF.get(column)
    if key is None:
        return None
    idx = pick(train, 64, seed=2)
    decoded = ex.model.decode_numpy(ex.latents("fused")[idx])
    return fit_relation(measure_decoded(decoded, key, territory), ex.table[column].to_numpy()[idx], key)


def explorer_direction(ex: Explorer, column: str, space: str = "fused", *, method: str = "auto", **kwargs: Any) -> Direction:
    """:meth:`Explorer.direction` (see there)."""
    from .directions import calibrate_direction, generative_direction, phenotype_direction

    if method not in ("auto", "calibrated", "generative", "probe"):
        raise ValueError(f"method must be 'auto', 'calibrated', 'generative' or 'probe', not {method!r}")
    latents, target = ex.latents(space), ex.table[column]
    if method == "probe":
        return phenotype_direction(latents, target, **kwargs)
    kwargs.pop("folds", None)
    kwargs.pop("random_state", None)
    direction = generative_direction(latents, target, **kwargs)
    measurable = column in MEASURE_OF and direction.kind == "continuous" and ex.model is not None
    if method == "generative" or (method == "auto" and not measurable):
        return direction
    if not measurable:
        raise ValueError(f"no measurement of the decoded output checks {column!r}; measurable: {sorted(MEASURE_OF)}")
    train, held = split_for(ex)
    territory = territory_for(ex)
    try:
        relation = relation_for(ex, column, train, territory)
    except ValueError as exc:  # the decoded outputs cannot be measured: say so, stay generative
        if method == "calibrated":
            raise
        direction.check = {"error": f"not calibrated: {exc}"}
        return direction
    sd = float(np.nanstd(np.asarray(target, float)))
    return calibrate_direction(
        direction,
        _decode(ex),
        latents,
        relation,
        calibrate_on=pick(train, CALIBRATION_SUBJECTS, seed=4),
        check_on=pick(held, CHECK_SUBJECTS, seed=5),
        delta=sd,
        territory=territory,
    )


def measure_for(ex: Explorer, decoded: Any) -> Any:
    """:meth:`Explorer.measure` (see there)."""
    return measure_outputs(dict(decoded), relations_of(reference_of(ex.model)), territory_for(ex))


def typicality_stats(model: Any) -> dict:
    """The model's typicality reference statistics (from its ``reference.json``); RuntimeError if none."""
    ref = reference_of(model)
    if not ref or "typicality" not in ref:
        raise RuntimeError(
            "the model has no reference statistics (reference.json beside its weights): "
            "run scripts/model_reference.py for it"
        )
    return ref["typicality"]


def assess_with(model: Any, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None, threshold: float = 95.0) -> Any:
    """How typical an ECG median beat (12, 600) and/or a cine (50, 96, 96) is for ``model``.

    Judged against the model's own held-out subjects; returns a
    :class:`~napari_latent.analysis.typicality.Typicality`. Used by :meth:`Explorer.assess`
    and by the file readers, which have a model but no Explorer.
    """
    from .typicality import assess_inputs

    return assess_inputs(model, typicality_stats(model), ecg=ecg, mri=mri, threshold=threshold)


def assess_for(ex: Explorer, *, ecg: np.ndarray | None, mri: np.ndarray | None, threshold: float = 95.0) -> Any:
    """:meth:`Explorer.assess` (see there)."""
    return assess_with(ex._require_model(), ecg=ecg, mri=mri, threshold=threshold)


def uncertainty_for(ex: Explorer, subject: Any, *, ecg: Any, mri: Any, samples: int, seed: int) -> Any:
    """:meth:`Explorer.uncertainty` (see there)."""
    from .uncertainty import posterior_of, posterior_uncertainty

    model = ex._require_model()
    if ecg is None and mri is None:
        subject = ex.focused if subject is None else subject
        if subject is None:
            raise RuntimeError("no subject: focus one or pass subject=, ecg= or mri=")
        s = ex.cohort.subject(subject)
        ecg, mri = np.asarray(s.ecg_median, np.float32), np.asarray(s.mri, np.float32)
    space, mu, logvar = posterior_of(model, ecg=ecg, mri=mri)
    return posterior_uncertainty(model, mu, logvar, samples=samples, seed=seed, space=space)
