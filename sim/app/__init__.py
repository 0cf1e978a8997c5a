"""The workshop app (``ccsim app``): a Mesa SolaraViz page (:mod:`sim.app.page`) over a lever-
driven model (:mod:`sim.app.model`) and its charts (:mod:`sim.app.views`).

``model`` and ``views`` do not import Solara, so notebooks and tests can use them directly.
"""
