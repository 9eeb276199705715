"""`mds`: the command line for MDS. Every command except `local` talks to the HTTP API
(``MDS_ENDPOINT``, default the local stack at http://127.0.0.1:8000)."""

from __future__ import annotations

import typer

from mds.commands import (
    audit,
    auth,
    config,
    device,
    h5,
    hotpatch,
    keys,
    local,
    reach,
    rollout,
    rules,
    upgrade,
    users,
    whitelist,
    workspaces,
)

app = typer.Typer(
    name="mds",
    help="Mobile Delivery Service: run the local stack; manage workspaces, users, AccessKeys, whitelists;"
    " read the audit log.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(local.app, name="local")
app.command()(auth.login)
app.command()(auth.logout)
app.command()(auth.whoami)
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(whitelist.app, name="whitelist")
app.add_typer(rules.app, name="rules")
app.add_typer(upgrade.app, name="upgrade")
app.add_typer(config.app, name="config")
app.add_typer(h5.app, name="h5")
app.add_typer(hotpatch.app, name="hotpatch")
app.add_typer(device.app, name="device")
app.command("audit")(audit.audit)
app.command("stats")(reach.stats)
app.add_typer(rollout.app, name="rollout")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
