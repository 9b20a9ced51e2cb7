"""``kinmatch serve``: the shared case as a web service (JSON API).

* :mod:`~kinmatch.service.policy` — every access decision, in one place;
* :mod:`~kinmatch.service.app` — the ASGI application and its endpoints.
"""
