"""Routing of care-transition messages under the backup routine of Mina planer.

Pure: nothing here imports serial I/O, asyncio, ``faxd`` or ``drivers`` (a test
enforces it). Modules:

- ``message_types``: the nine types, their codes and Swedish names; type detection.
- ``metadata``: the ``Faxd*`` routing fields of a document (``DocumentMeta``).
- ``numbers``: Swedish fax number normalisation, display form, dialling rule.
- ``directory``: the fax directory (CSV), checked whole.
- ``routine``: the routine's table as data (``RULES.md`` is rendered from it).
- ``after_outage``: the "after the outage" column; who registers what afterwards.
- ``rules``: ``route(meta, directory) -> Route``.
- ``errors``: ``RoutingError`` and its kinds.
"""
