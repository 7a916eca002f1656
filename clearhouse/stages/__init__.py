"""The clearing stages, one module each, composed by :mod:`clearhouse.stages.runner`.

``ingest → detect → minimise → protect → validate → release``: every stage is a plain function
``run(ctx) -> <Stage>Result`` over files in the version's zones (landing → work → quarantine | cleared),
declaring its ``INPUTS`` and ``OUTPUTS`` (attributes of :class:`~clearhouse.zones.VersionPaths`). The
runner wraps each in lineage and owns quarantine on failure; the DAG factory, the CLI and the tests call
the runner, never a stage directly.
"""
