"""`mds`: the command line for MDS. Every command except `local` talks to the HTTP API."""

from __future__ import annotations

import typer

from mds.commands import local

app = typer.Typer(
    name="mds",
    help="Mobile Delivery Service: run the local stack and manage workspaces, users, keys and audit.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(local.app, name="local")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
