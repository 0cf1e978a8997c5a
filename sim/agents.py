"""Mesa agents as thin views over the model's columnar state.

The state of every clinician and site lives in numpy arrays (:mod:`sim.state`), updated by the
vectorised mechanisms; these ``mesa.Agent`` objects let users inspect, extend and visualise
individuals (``model.agents_by_type[Clinician]``) without a per-agent loop on the hot path.
Their ``step()`` is intentionally empty: the model steps the arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.state import PROFESSIONS

if TYPE_CHECKING:
    from sim.model import CommunityModel

ADOPTION_LABELS = ("not adopted", "compliant", "internalised")


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
