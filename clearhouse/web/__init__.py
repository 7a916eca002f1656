"""The web portal (FastAPI): ``clearhouse serve`` and, mounted at ``/clearhouse``, Airflow's API server.

=================  ==============================================================================
``app``            the app factory, sign-in, error pages, the OpenAPI schema behind sign-in
``security``       API-token sign-in, the encrypted session cookie, CSRF, recorded refusals
``deps``           request dependencies: settings, the signed-in user holding a role, path ids
``render``         Jinja2 templates shipped with the package, security headers
``labeler``        cleared versions and streamed downloads (Parquet, CSV, JSON Lines, Label Studio)
``officer``        one page per version to review; approve, reject, revoke with a reason
``engineer``       runs and their states; the catalog as JSON
=================  ==============================================================================

The portal calls the acts and the catalog; it decides nothing they do not.
"""

from clearhouse.web.app import create_app

__all__ = ["create_app"]
