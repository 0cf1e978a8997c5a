"""The workshop page's CSS: what Mesa's SolaraViz cannot be told through its arguments.

Mesa 3.5 lays the charts out in a draggable grid of fixed-height cells, names its tabs
"Page 0", "Page 1" and draws slider values only while a thumb is held. The rules below, scoped
to Mesa's and Vuetify's class names, make the cards grow to fit their content in a two-column
flow (one column on narrow screens), name the tabs, keep every slider's value visible
without the bubbles overlapping, and print the page whole (the lever tab as lever cards). If
Mesa changes its markup, a rule stops matching and the page falls back to Mesa's own look;
nothing breaks.
"""

from __future__ import annotations

TAB_NAMES = ("Charts", "Levers and lessons")
"""Names shown on Mesa's tabs (page 0 and page 1) instead of "Page 0" and "Page 1"."""

ONE_COLUMN_BELOW_PX = 1280
"""Viewport width under which the cards stack in one column (the sidebar keeps 400 px)."""

_GRID = f"""
/* Mesa's grid cells have fixed heights that clip text: let the cards flow and grow instead */
.vue-grid-layout {{
  height: auto !important; display: flex; flex-wrap: wrap; gap: 12px; align-items: stretch;
}}
.vue-grid-layout > .vue-grid-item {{
  position: relative !important; transform: none !important; top: auto !important;
  left: auto !important; width: calc(50% - 6px) !important; height: auto !important;
  overflow: visible !important;
}}
.vue-grid-layout > .vue-grid-item:has(.ccsim-guide) {{ width: 100% !important; }}
.vue-grid-layout > .vue-grid-placeholder, .vue-resizable-handle {{ display: none !important; }}
@media (max-width: {ONE_COLUMN_BELOW_PX - 1}px) {{
  .vue-grid-layout > .vue-grid-item {{ width: 100% !important; }}
}}
.ccsim-card img {{ max-width: 100%; height: auto; }}
.ccsim-card p {{ margin-bottom: 0; }}
.ccsim-card strong {{ font-weight: 700; }}
"""

_TABS = f"""
/* Mesa names its tabs "Page 0", "Page 1": show names instead */
.v-tabs-bar__content > .v-tab {{ font-size: 0 !important; }}
.v-tabs-bar__content > .v-tabs-slider-wrapper + .v-tab::after {{
  content: "{TAB_NAMES[0]}"; font-size: 0.875rem;
}}
.v-tabs-bar__content > .v-tabs-slider-wrapper + .v-tab + .v-tab::after {{
  content: "{TAB_NAMES[1]}"; font-size: 0.875rem;
}}
"""

_SLIDERS = """
/* every slider shows its value, in a bubble above the thumb */
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label {
  transform: translateY(-14%) translateX(-50%) rotate(45deg) scale(0.8) !important;
}
/* labels above the sliders: long labels with units would leave a short track beside them */
.v-navigation-drawer .v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-navigation-drawer .v-input__slider .v-input__slot > .v-label {
  flex: 1 0 100%; margin-bottom: 24px;
}
"""

_TEXT = """
.ccsim-band-text { flex: 1 1 220px; padding-left: 8px; font-size: 0.9rem; line-height: 1.35; }
.ccsim-placeholder {
  border: 1px dashed #b0b0b0; border-radius: 4px; padding: 24px 16px; color: #555;
  text-align: center;
}
.ccsim-guide table { border-collapse: collapse; }
.ccsim-guide td, .ccsim-guide th { border-bottom: 1px solid #ddd; padding: 4px 8px; }
.ccsim-guide th { text-align: left; }
"""

_PRINT = """
/* printing: Solara's page scrolls inside a box one screen high, which prints cut off; let the
   page flow to its full height and leave out the sidebar, the app bar and the tabs */
@media print {
  html, body, .v-application, .v-application--wrap, .v-application--wrap div,
  main.v-content, .solara-autorouter-content {
    height: auto !important; max-height: none !important; overflow: visible !important;
  }
  .v-navigation-drawer, header.v-app-bar, .v-tabs, .ccsim-funding-end { display: none !important; }
  main.v-content { padding: 0 !important; }
  .ccsim-guide tr { break-inside: avoid; }
}
"""

CSS = _GRID + _TABS + _SLIDERS + _TEXT + _PRINT
"""All of the page's CSS (given to ``solara.Style`` once per page)."""
