"""Named random streams for common random numbers (CRN).

Each (design key, replication) pair gets a ``SeedSequence(root, spawn_key=(design_key,
replication))``; each mechanism then draws from its own child stream, so changing one lever
never shifts the draws of another mechanism, and a replication's numbers do not depend on how
many replications run, on ``--jobs`` or on the parallel back end.

Under CRN (the default) every design shares ``design_key = 0``: paired designs see the same
sites, clinicians, networks and chance events. With ``--independent`` the design index is used.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 20091
"""Root seed of ``ccsim run``, ``compare`` and ``calibrate`` and of :func:`sim.run` when none is
given (an arbitrary fixed number: the same command gives the same numbers on any machine)."""

STREAMS: tuple[str, ...] = (
    "sites",
    "clinicians",
    "network",
    "recruitment",
    "community",
    "data",
    "adoption",
    "lapse",
    "turnover",
    "outcomes",
    "control",
)


def replication_seed(root: int, replication: int, design_key: int = 0) -> np.random.SeedSequence:
    """The seed sequence of one replication. ``root`` >= 0, ``replication`` >= 0."""
    return np.random.SeedSequence(root, spawn_key=(design_key, replication))


def seed_label(root: int, replication: int, design_key: int = 0) -> int:
    """A 63-bit integer that identifies the replication's seed (for ``runs.parquet``)."""
    state = replication_seed(root, replication, design_key).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def make_streams(
    root: int, replication: int, design_key: int = 0
) -> dict[str, np.random.Generator]:
    """One independent ``numpy.random.Generator`` (PCG64) per name in :data:`STREAMS`.

    Stream ``i`` uses ``SeedSequence(root, spawn_key=(design_key, replication, i))``, so adding a
    new stream at the end of :data:`STREAMS` leaves all existing streams unchanged.
    """
    return {
        name: np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(root, spawn_key=(design_key, replication, i)))
        )
        for i, name in enumerate(STREAMS)
    }
