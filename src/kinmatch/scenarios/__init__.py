"""Simulated cases modelled on real disasters, with their truth, for running,
timing and scoring the whole pipeline.

* :mod:`.chosei` — the 1942 Chōsei undersea coal mine flood (183 miners).
"""

from kinmatch.scenarios.chosei import ChoseiScenario, score_identifications, simulate_chosei

__all__ = ["ChoseiScenario", "score_identifications", "simulate_chosei"]
