"""The SQL backends: SQLite (the embedded default) and PostgreSQL, on SQLAlchemy Core.

* :class:`~pinsphere.backends.sql.metadata.SQLMetadataBackend` keeps pins, tags and boards;
* :class:`~pinsphere.backends.sql.users.SQLUserBackend` keeps accounts.

Both may share one database: their tables have distinct names and each upgrades only its own
tables, recorded in its own Alembic version table. A deployer who prefers to migrate
explicitly (rather than on open) calls :func:`upgrade_schema`; :func:`schema_revision` says
where a database stands.

Modules, one job each: :mod:`.engine` (URLs, options, connections), :mod:`.translate`
(native errors to :mod:`pinsphere.errors`), :mod:`.tables` (the physical schema as SQLAlchemy
sees it), :mod:`.migrate` (Alembic), :mod:`.compiler` (queries and the access rule),
:mod:`.rows` (rows to models and back).
"""

from __future__ import annotations

from pinsphere.backends.sql.migrate import schema_revision, upgrade_schema

__all__ = ["schema_revision", "upgrade_schema"]
