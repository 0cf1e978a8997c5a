"""Mesa agents as thin views over the model's columnar state.

The state of every clinician and site lives in numpy arrays (:mod:`sim.state`), updated by the
vectorised mechanisms; these ``mesa.Agent`` objects let users inspect, extend and visualise
individuals (``model.agents_by_type[Clinician]``) without a per-agent loop on the hot path.
Their ``step()`` is intentionally empty: the model steps the arrays.
"""

from __future__ import annotations

import gc
import logging
from itertools import repeat
from typing import TYPE_CHECKING

import mesa

from sim.state import PROFESSIONS

if TYPE_CHECKING:
    from sim.model import CommunityModel

ADOPTION_LABELS = ("not adopted", "compliant", "internalised")
_REGISTRY_LOG = logging.getLogger("MESA.mesa.model")  # where Model.register_agent logs (debug)


class Clinician(mesa.Agent):
    """One clinician: row ``idx`` of ``model.clinicians``."""

    def __init__(self, model: CommunityModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def site(self) -> int:
        """Index of the clinician's site."""
        return int(self.model.clinicians.site[self.idx])

    @property
    def profession(self) -> str:
        """``doctor``, ``nurse`` or ``allied``."""
        return PROFESSIONS[int(self.model.clinicians.profession[self.idx])]

    @property
    def adoption_state(self) -> str:
        """``not adopted``, ``compliant`` or ``internalised``."""
        return ADOPTION_LABELS[int(self.model.clinicians.adoption[self.idx])]

    @property
    def threshold(self) -> float:
        """Personal threshold for peer influence (network exposure, [0, 1])."""
        return float(self.model.clinicians.threshold[self.idx])

    @property
    def reactance(self) -> float:
        """Reactance to hard tactics ([0, 1])."""
        return float(self.model.clinicians.reactance[self.idx])


class Site(mesa.Agent):
    """One site (hospital unit, practice): row ``idx`` of ``model.sites``."""

    def __init__(self, model: CommunityModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    def __getattr__(self, name: str) -> float:
        """Read any per-site array of :class:`sim.state.SiteState` as a scalar attribute."""
        sites = self.__dict__.get("model", None)
        if sites is not None and hasattr(self.model.sites, name):
            value = getattr(self.model.sites, name)
            return value[self.idx].item()
        raise AttributeError(name)

    @property
    def adherence(self) -> float:
        """True adherence this month."""
        return float(self.model.site_adherence[self.idx])


class CoreTeam(mesa.Agent):
    """The programme's core team: holds the current plan (hard and soft intensity)."""

    def __init__(self, model: CommunityModel, hard: float, soft: float) -> None:
        super().__init__(model)
        self.hard = hard
        self.soft = soft
        self.reviews = 0


def _bulk_registration_ok(model: CommunityModel, cls: type[mesa.Agent]) -> bool:
    """True if registering views in bulk is indistinguishable from ``mesa.Agent.__init__``:
    nobody listens for agent signals, no data set tracks the class, no debug log is kept, and
    the model's registries have the layout of Mesa 3.5 (``_all_agents``, ``_agents_by_type``)."""
    registry = getattr(model, "_agents_by_type", {}).get(cls)
    return (
        not cls._datasets
        and getattr(model, "_batch_context", None) is None
        and not any(key[0] == "agents" for key in getattr(model, "subscribers", {"?": 0}))
        and not _REGISTRY_LOG.isEnabledFor(logging.DEBUG)
        and isinstance(getattr(getattr(model, "_all_agents", None), "_agents", None), dict)
        and isinstance(getattr(registry, "_agents", None), dict)
        and isinstance(model.agent_id_counter, int)
    )


def create_views(model: CommunityModel, cls: type[Clinician] | type[Site], n: int) -> None:
    """Create the views ``cls(model, i)`` for ``i = 0 .. n-1``, in that order.

    The first view goes through ``mesa.Agent.__init__`` (which creates the model's agent set
    for ``cls``); when :func:`_bulk_registration_ok`, the others get the same attributes
    (``model``, ``unique_id``, ``pos``, ``idx``), unique ids and registry order in one pass,
    without the per-agent signal and logging machinery (~10x faster, which matters at 10^6
    clinicians); otherwise they are constructed one by one as well.
    """
    if n <= 0:
        return
    cls(model, 0)
    if not _bulk_registration_ok(model, cls):
        for i in range(1, n):
            cls(model, i)
        return
    first = model.agent_id_counter
    collecting = gc.isenabled()
    gc.disable()  # no garbage is made here: skip the collections 10^5 new objects would trigger
    try:
        views = list(map(object.__new__, repeat(cls, n - 1)))
        ids = range(first, first + n - 1)
        for view, i, uid in zip(views, range(1, n), ids, strict=True):
            view.model = model  # attribute order as in mesa.Agent.__init__
            view.unique_id = uid
            view.pos = None
            view.idx = i
    finally:
        if collecting:
            gc.enable()
    new = dict.fromkeys(views)
    model._all_agents._agents.update(new)
    model._agents_by_type[cls]._agents.update(new)
    model.agent_id_counter = first + n - 1
