"""Process 4, data and feedback (lesson 9: use data wisely).

Every feedback interval each active site reports ``true + gaming + noise`` (clipped to [0, 1]).
Noise is larger at small sites, for rare (hard to measure) outcomes and with poor data support.
Gaming appears only when data is used for judgement under hard pressure, up to ~20 points
between reported and true (Bevan & Hood 2006). Feedback then adds pressure proportional to the
reported shortfall and to the data's credibility (audit and feedback, Ivers et al. 2012: modest
effect, larger when baseline is low and the source respected).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import clip01


def data_quality(measurement_quality: float, data_support_effect: float) -> float:
    """Quality of site data in [0, 1]: ``measurement_quality x (0.5 + 0.5 x data_support)``."""
    return measurement_quality * (0.5 + 0.5 * data_support_effect)


def noise_sd(size: np.ndarray, measurability: float, quality: float, base_sd: float) -> np.ndarray:
    """Sd of reported adherence (shape ``(n_sites,)``): ``base_sd x (1 - 0.7 quality) /
    sqrt(size / 10 x measurability / 0.5)``; the base is the sd at a 10-clinician site."""
    return base_sd * (1.0 - 0.7 * quality) / np.sqrt(size / 10.0 * measurability / 0.5)


def gaming_bias(
    true_adherence: np.ndarray, judgement: bool, hard: float, gaming_max: float
) -> np.ndarray:
    """Upward bias of reports: ``gaming_max x hard x (1 - true)`` if data is used for judgement."""
    if not judgement:
        return np.zeros_like(true_adherence)
    return gaming_max * hard * (1.0 - true_adherence)


def report(
    true_adherence: np.ndarray, gaming: np.ndarray, sd: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Reported adherence ``clip(true + gaming + sd x z, 0, 1)``; ``z`` standard normal draws."""
    r = true_adherence + gaming + sd * z
    return clip01(r)


def feedback_pressure(
    reported: np.ndarray,
    baseline_adherence: float,
    target_adherence: float,
    quality: float,
    credibility: float,
    gain: float,
) -> np.ndarray:
    """Pressure from feedback: ``gain x quality x (0.5 + 0.5 credibility) x reported gap``,
    where the reported gap is ``clip((target - reported) / (target - baseline), 0, 1)``."""
    gap = (target_adherence - reported) / (target_adherence - baseline_adherence)
    clip01(gap)
    return gain * quality * (0.5 + 0.5 * credibility) * gap
