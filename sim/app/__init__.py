"""The workshop app (``ccsim app``): a Mesa SolaraViz page (:mod:`sim.app.page`) over a lever-
driven model (:mod:`sim.app.model`) and its charts (:mod:`sim.app.views`).

``model`` gathers the levers (:mod:`sim.app.levers`), the drawn network layout
(:mod:`sim.app.layout`) and the replication band (:mod:`sim.app.band`). None of these import
Solara, so notebooks and tests can use them directly.
"""
