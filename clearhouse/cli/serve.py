"""The portal's command: ``clearhouse serve`` runs the web portal (FastAPI) with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from clearhouse.cli._common import out, settings
from clearhouse.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        help="run the web portal: labelers download, officers review and decide, engineers follow runs",
    )(serve)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on (a public address needs TLS: see --tls-cert)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM); cookies are then Secure")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="proxies whose X-Forwarded-Proto is trusted (TLS ended at a reverse proxy)")
    ] = "127.0.0.1",
) -> None:
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    s = settings()
    s.ensure_dirs()
    scheme = "https" if tls_cert else "http"
    out(f"Clearhouse portal on {scheme}://{host}:{port}/ (state directory {s.home}); Ctrl-C stops it")
    # by import string: the CLI and the web edge are siblings, neither imports the other; the factory
    # reads the same environment this command just checked
    uvicorn.run(
        "clearhouse.web:create_app",
        factory=True,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
        # uvicorn's access log prints query strings; the portal never puts data in them, but keep it off
        access_log=False,
    )
