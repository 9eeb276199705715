"""``mds local up``: the whole local stack in one process.

Order matters: the environment is set before the app is imported (``app.py`` reads the queue
name at import); moto replays its journal before the template's resources are ensured; the app's
demo bootstrap runs before anything serves; "ready" is printed only when everything serves.
"""

from __future__ import annotations

import errno
import faulthandler
import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_PREFIX = "MDS local stack ready"
CHALICE_STAGE = "dev"
DEFAULT_STACK = "mds-dev"
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Options:
    data_dir: Path
    port: int = 8000
    cdn_port: int = 8001
    moto_port: int = 4566
    host: str = "127.0.0.1"


# label, Options field, CLI flag, environment variable
_PORTS = (
    ("API", "port", "--port", "MDS_PORT"),
    ("CDN", "cdn_port", "--cdn-port", "MDS_CDN_PORT"),
    ("moto", "moto_port", "--moto-port", "MDS_MOTO_PORT"),
)


class PortInUse(Exception):
    @classmethod
    def of(cls, label: str, port: int) -> PortInUse:
        flag, env = next((flag, env) for lbl, _, flag, env in _PORTS if lbl == label)
        return cls(f"port {port} ({label}) is already in use; choose another with {flag} or {env}")


class DataDirInUse(Exception):
    pass


class _Interrupted(Exception):
    pass


def check_ports(options: Options) -> None:
    """Raises ``PortInUse`` naming the first busy port and how to choose another."""
    seen: dict[int, str] = {}
    for label, field, flag, env in _PORTS:
        port = getattr(options, field)
        if port in seen:
            raise PortInUse(f"the {label} and {seen[port]} ports are both {port}; set {flag} (or {env})")
        seen[port] = label
        if not _port_free(options.host, port):
            raise PortInUse.of(label, port)


def _port_free(host: str, port: int) -> bool:
    # SO_REUSEADDR like the servers themselves, so a port in TIME_WAIT after a restart counts as free.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run(options: Options, *, out: Callable[[str], None] = print) -> int:
    """Runs until SIGINT/SIGTERM. Exit code 0 after a clean stop, 2 when a port is taken."""
    try:
        check_ports(options)
    except PortInUse as err:
        print(f"mds local up: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(*_: Any) -> None:
        if stop.is_set():  # a second Ctrl-C while stopping: the user wants out now
            print("mds local up: forced exit", file=sys.stderr, flush=True)
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    # `kill -USR1 <pid>` prints every thread's stack: what a stack that does not stop is doing
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    stack = LocalStack(options, out=out, interrupted=stop.is_set)
    try:
        stack.start()
    except (PortInUse, DataDirInUse) as err:
        stack.stop()
        print(f"mds local up: {err}", file=sys.stderr)
        return 2
    except _Interrupted:
        stack.stop()
        return 0
    except BaseException:
        stack.stop()  # nothing left running (and the journal flushed) behind the traceback
        raise
    out(f"{READY_PREFIX}: API {stack.api_url} | CDN {stack.cdn_url} | AWS {stack.moto_url}")
    stop.wait()
    out("stopping...")
    stack.stop()
    out("stopped")
    return 0


class LocalStack:
    def __init__(self, options: Options, *, out: Callable[[str], None] = print,
                 interrupted: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        self.options, self.out, self.interrupted = options, out, interrupted
        self.data_dir = options.data_dir.resolve()
        self._stoppers: list[Callable[[], None]] = []
        host = options.host
        self.api_url = f"http://{host}:{options.port}"
        self.cdn_url = f"http://{host}:{options.cdn_port}"
        self.moto_url = f"http://{host}:{options.moto_port}"

    def start(self) -> None:
        started = time.perf_counter()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_data_dir()
        from chalice.cli.factory import CLIFactory

        factory = CLIFactory(project_dir=str(PROJECT_DIR))
        config = factory.create_config_obj(chalice_stage_name=CHALICE_STAGE)
        stack_name = self._set_environment(config.environment_variables)

        from mds.local.moto_server import LocalMoto

        moto = LocalMoto(self.data_dir, host=self.options.host, port=self.options.moto_port)
        replay = _binding(self.options.moto_port, "moto", moto.start)
        self._stoppers.append(moto.stop)
        if replay.entries:
            self.out(f"replayed {replay.entries} journal entries in {replay.seconds:.2f}s"
                     + (f" ({replay.failed} did not succeed again)" if replay.failed else ""))  # fmt: skip
        self._check_interrupted()

        from mds.local.resources import aws_clients, ensure_resources

        resources = ensure_resources(self.moto_url, stack=stack_name, region=LOCAL_REGION, log=self.out)
        os.environ["MDS_ARTIFACTS_BUCKET"] = resources.buckets["ArtifactsBucket"]
        os.environ["MDS_DELIVERY_BUCKET"] = resources.buckets["DeliveryBucket"]
        import chalicelib.config

        chalicelib.config.reload()
        app = factory.load_chalice_app()  # environment already set; see _set_environment
        bootstrap = self._bootstrap_demo()
        self._check_interrupted()

        self._serve_api(app, config)
        clients = aws_clients(self.moto_url, LOCAL_REGION)
        self._run_events(app, clients["sqs"], stack_name)
        self._serve_cdn(clients["s3"], resources.buckets["DeliveryBucket"])

        self.out(f"MDS local stack (stack {stack_name}), started in {time.perf_counter() - started:.1f}s")
        self.out(f"  API   {self.api_url}   (health: {self.api_url}/api/health)")
        self.out(f"  console {self.api_url}/console/")
        self.out(f"  CDN   {self.cdn_url}   (delivery bucket {resources.buckets['DeliveryBucket']})")
        self.out(f"  AWS   {self.moto_url}   (moto; export AWS_ENDPOINT_URL={self.moto_url})")
        self.out(f"  data  {self.data_dir}")
        self.out(f"  login {bootstrap}" if bootstrap.exists() else "  login (no demo bootstrap written)")

    def stop(self) -> None:
        """Stops in reverse order of start: events first, moto (and its journal) last."""
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as err:  # noqa: BLE001 - keep stopping the rest
                print(f"mds local up: error while stopping: {err!r}", file=sys.stderr)

    def _lock_data_dir(self) -> None:
        """Two stacks appending to one journal would corrupt it. The lock dies with the process."""
        fd = os.open(self.data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirInUse(
                f"data dir {self.data_dir} is used by another `mds local up`; stop it or choose "
                "another with --data-dir or MDS_DATA_DIR"
            ) from None
        self._stoppers.append(lambda: os.close(fd))

    def _check_interrupted(self) -> None:
        if self.interrupted():
            raise _Interrupted

    def _set_environment(self, stage_environment: dict[str, str]) -> str:
        """Like Lambda: the stage's variables, except those this shell sets; then what makes
        every AWS call local. Returns the stack name."""
        for key, value in stage_environment.items():
            os.environ.setdefault(key, value)
        os.environ.setdefault("MDS_STACK", DEFAULT_STACK)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(key, None)  # never reach a real account
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
                "MDS_MASTER_KEY_FILE": str(self._master_key()),
                "MDS_CDN_BASE_URL": self.cdn_url,
                "MDS_API_BASE_URL": self.api_url,  # absolute download links in client answers
            }
        )
        return os.environ["MDS_STACK"]

    def _master_key(self) -> Path:
        path = self.data_dir / "master.key"
        if not path.exists():
            _write_private(path, os.urandom(32))
        return path

    def _bootstrap_demo(self) -> Path:
        """The demo workspace and its login, created on the first start only (then it is in the
        journal and ``ensure_demo`` returns None)."""
        from chalicelib.services.demo import ensure_demo

        path = self.data_dir / "bootstrap.json"
        credentials = ensure_demo()
        if credentials is not None:
            _write_private(path, (json.dumps(credentials, indent=2) + "\n").encode())
            self.out(f"demo workspace created; its login is in {path}")
        return path

    def _serve_api(self, app: Any, config: Any) -> None:
        from chalice.local import ChaliceRequestHandler, create_local_server

        # Chalice writes headers and body separately; Nagle + delayed ACK would add ~40 ms per response.
        ChaliceRequestHandler.disable_nagle_algorithm = True

        server = _binding(
            self.options.port,
            "API",
            lambda: create_local_server(app, config, self.options.host, self.options.port),
        )
        from mds.local.console import serve_console

        serve_console(server, app, config)  # /console/ on the same origin as the API
        thread = threading.Thread(target=server.server.serve_forever, name="api", daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server.server_close()
            thread.join(timeout=10)

        self._stoppers.append(stop)

    def _run_events(self, app: Any, sqs: Any, stack_name: str) -> None:
        from mds.local.scheduler import Scheduler
        from mds.local.worker import workers_for_app

        for worker in workers_for_app(app, sqs, region=LOCAL_REGION, account=LOCAL_ACCOUNT):
            worker.start()
            self._stoppers.append(worker.stop)
        scheduler = Scheduler.for_app(app, stack=stack_name, region=LOCAL_REGION, account=LOCAL_ACCOUNT)
        scheduler.start()
        self._stoppers.append(scheduler.stop)

    def _serve_cdn(self, s3: Any, bucket: str) -> None:
        from mds.local.cdn import CdnServer

        cdn = _binding(
            self.options.cdn_port,
            "CDN",
            lambda: CdnServer(s3, bucket, host=self.options.host, port=self.options.cdn_port),
        )
        cdn.start()
        self._stoppers.append(cdn.stop)


def _binding(port: int, label: str, start: Callable[[], Any]) -> Any:
    """A port taken between the check and the bind gets the same clear message."""
    try:
        return start()
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        raise PortInUse.of(label, port) from None


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte (no window where the file is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
