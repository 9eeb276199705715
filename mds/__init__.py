"""Not Lambda code: the `mds` CLI, the local stack runner, and (later) the reference device client."""
