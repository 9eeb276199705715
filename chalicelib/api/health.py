"""Liveness: proves the function runs, touches no AWS service."""

from chalice import Blueprint

health = Blueprint(__name__)


@health.route("/api/health", methods=["GET"])
def get_health() -> dict:
    return {"status": "ok"}
