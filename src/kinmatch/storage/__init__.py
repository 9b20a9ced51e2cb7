"""Storage of a shared case: the database behind ``kinmatch serve``.

* :mod:`~kinmatch.storage.database` — where the data lives (an embedded
  SQLite file by default, PostgreSQL for teams), engines, sessions,
  migrations;
* :mod:`~kinmatch.storage.models` — the tables: programmes and agencies,
  users and roles, missing persons, reference families and relatives with
  their consent, samples (remains and references) with their profiles,
  marker databases, imports, analyses and proposed identifications;
* :mod:`~kinmatch.storage.encryption` — personal data and profiles sealed
  with a key kept outside the database;
* :mod:`~kinmatch.storage.audit` — the append-only, hash-chained audit log;
* :mod:`~kinmatch.storage.maintenance` — key rotation, the PostgreSQL role
  the service connects as;
* :mod:`~kinmatch.storage.backup` — backups (online) and restores.

The library never imports this package; the service and the command line
use it.
"""
