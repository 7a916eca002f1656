"""Lineage sinks: where events go. Each is an OpenLineage client ``Transport``, one per module.

==============  ======================================  =========================================
name            class                                   configuration
==============  ======================================  =========================================
``sql``         :class:`lineage.sinks.sql.SqlSink`      ``url=`` | ``engine=`` | ``store=``
``file``        :class:`lineage.sinks.file.FileSink`    ``path=`` (JSON lines, appended)
``console``     ``lineage.sinks.console.ConsoleSink``   none (INFO log line per event)
``http``        :class:`lineage.sinks.http.HttpSink`    ``url=``, ``endpoint=``, ``api_key_env=``...
``composite``   ``lineage.sinks.composite.CompositeSink``  ``sinks=[{...}, ...]``
==============  ======================================  =========================================

Create them by name with :func:`create_sink`; add your own with :func:`register_sink`.
"""

from clearhouse.lineage.sinks.registry import available_sinks, create_sink, create_sinks, register_sink

__all__ = ["available_sinks", "create_sink", "create_sinks", "register_sink"]
