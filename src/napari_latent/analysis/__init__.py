"""Analysis of latent spaces: projections, probes, groups, directions, neighbours.

Everything here works on latent arrays (np.ndarray (N, D), one row per subject, in the
subjects table's row order) and the subjects table; no Qt, no napari, no torch. Encoding
a cohort (``embed_cohort``, which needs the model) is imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as _lazy

from .directions import Direction, order_by_importance, order_by_variance, phenotype_direction, traverse
from .groups import (
    GROUP_COLOURS,
    Group,
    GroupDifference,
    difference_direction,
    filter_mask,
    group_from_filter,
    group_from_indices,
    group_from_query,
    group_mean,
    interpolate,
    selection_mask,
    summarize,
)
from .neighbours import NeighbourIndex, nearest, retrieval_accuracy, retrieval_ranks
from .probes import ProbeResult, infer_kind, probe, probe_subgroup, probe_table
from .projection import METHODS, Cancelled, ProjectionResult, project, trustworthiness

__all__ = [
    # projection
    "project",
    "ProjectionResult",
    "Cancelled",
    "trustworthiness",
    "METHODS",
    # probes
    "probe",
    "probe_table",
    "probe_subgroup",
    "ProbeResult",
    "infer_kind",
    # groups
    "Group",
    "GROUP_COLOURS",
    "GroupDifference",
    "group_from_indices",
    "group_from_filter",
    "group_from_query",
    "filter_mask",
    "selection_mask",
    "summarize",
    "group_mean",
    "interpolate",
    "difference_direction",
    # directions
    "Direction",
    "phenotype_direction",
    "traverse",
    "order_by_variance",
    "order_by_importance",
    # neighbours
    "NeighbourIndex",
    "nearest",
    "retrieval_accuracy",
    "retrieval_ranks",
    # embedding (lazy)
    "embed_cohort",
    "embedding_cache_path",
    "load_and_embed",
    "SPACES",
]

if TYPE_CHECKING:
    from .embedding import SPACES, embed_cohort, embedding_cache_path, load_and_embed

# the embedding needs torch (through the model): imported on first use
__getattr__, _, _ = _lazy.attach(
    __name__, submod_attrs={"embedding": ["embed_cohort", "embedding_cache_path", "load_and_embed", "SPACES"]}
)
