"""Use cases: each takes a ``Call`` (who, which request, when) and commits its change with an audit entry."""
