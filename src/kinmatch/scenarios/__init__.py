"""Simulated cases modelled on real disasters, with their truth, for running,
timing and scoring the whole pipeline.

* :mod:`.chosei` — the 1942 Chōsei undersea coal mine flood (183 miners);
* :mod:`.scoring` — identifications scored against a simulated case's truth.
"""
