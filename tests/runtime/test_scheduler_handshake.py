"""Issue 22 kind 3: a ``--scheduler`` address where something other than Dask listens is refused in one
line, exit 2, nothing written, within :data:`supviz.runtime.cluster.HANDSHAKE_TIMEOUT` s (plus the
time to parse the command line), where ``Client`` waited over 12 minutes or read ``b"HTTP/1.1"`` as a
length of 3.07 EiB.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from supviz.cli import main
from supviz.errors import SupvizError
from supviz.runtime import cluster

#: Seconds beyond the handshake deadline that the whole refusal (parsing, config, the probe) may take.
SLACK = 10.0


@contextmanager
def _server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on localhost that runs ``answer`` on each accepted connection; yields its address."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            held.append(conn)
            answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        srv.close()


def _silent(conn: socket.socket) -> None:  # accepts and waits, as a web server waits for a request
    pass


def _http_status(conn: socket.socket) -> None:  # speaks first, as the second server did
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _hangs_up(conn: socket.socket) -> None:
    conn.close()


def _short_length(conn: socket.socket) -> None:  # a plausible length prefix, then bytes that are no handshake
    conn.sendall((16).to_bytes(8, "little") + b"\x01" + b"\x00" * 15)


@contextmanager
def _http_server() -> Iterator[str]:
    """Python's own HTTP server (the dashboard's kind of service), in a thread."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_silent, "sent no Dask handshake within"),
        (_http_status, "answered b'HTTP/1.1 400"),
        (_hangs_up, "sent no Dask handshake within"),
        (_short_length, "not a Dask handshake"),
    ],
)
def test_a_tcp_peer_that_is_not_dask_is_refused_by_the_probe(answer, words):
    with _server(answer) as address:
        start = time.monotonic()
        with pytest.raises(SupvizError, match=words) as info:
            cluster.check_handshake(address, name="--scheduler")
        took = time.monotonic() - start
    assert "\n" not in str(info.value) and "not a Dask scheduler" in str(info.value)
    assert took < cluster.HANDSHAKE_TIMEOUT + 1.0


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_http_server_behind_scheduler_is_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    from supviz.sweep import example_toml_text

    example = tmp_path / "sweep.toml"
    example.write_text(example_toml_text(), encoding="utf-8")
    argv = {
        "run": ["run", "--out", str(tmp_path / "R")],
        "sweep": ["sweep", str(example), "--out", str(tmp_path / "S")],
    }[command]
    for server in (_http_server, lambda: _server(_http_status)):
        with server() as address:
            before = _listing(tmp_path)
            start = time.monotonic()
            rc = main([*argv, "--scheduler", address])
            took = time.monotonic() - start
            err = capsys.readouterr().err
        assert rc == 2, err
        assert err.count("\n") == 1 and err.startswith("supviz: error: `run.scheduler` ") and "not a Dask" in err, err
        assert _listing(tmp_path) == before
        assert took < cluster.HANDSHAKE_TIMEOUT + SLACK, took


def test_a_real_scheduler_passes_the_probe():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None) as lc:
        cluster.check_handshake(lc.scheduler_address)  # no error: its handshake decodes
        port = lc.scheduler_address.rsplit(":", 1)[1]
        cluster.check_handshake(f"127.0.0.1:{port}")  # no scheme is tcp://


def test_a_closed_port_is_still_no_scheduler(tmp_path):
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(SupvizError, match="no Dask scheduler answered"):
        cluster.check_handshake(f"tcp://127.0.0.1:{port}")


@pytest.mark.parametrize("scheme", ["ws", "tls"])
def test_other_schemes_to_a_web_server_are_one_line_without_the_clients_40_s_close(tmp_path, capsys, scheme):
    # Client's own error (tornado's WebSocketError; TLS without a context), then its __del__ used to wait
    # 40 s and print "Exception ignored ... TimeoutError" after the line
    import subprocess
    import sys

    with _http_server() as address:
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "supviz", "run", "--out", str(tmp_path / "R")]
            + ["--scheduler", address.replace("tcp://", f"{scheme}://")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**__import__("os").environ, "PYTHONPATH": str(Path(cluster.__file__).parents[2])},
        )
        took = time.monotonic() - start
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "no Dask scheduler answered" in done.stderr and not (tmp_path / "R").exists()
    assert took < cluster.HANDSHAKE_TIMEOUT + SLACK, took


def test_a_port_out_of_range_is_refused_by_its_form():
    for bad in ("tcp://127.0.0.1:0", "tcp://127.0.0.1:99999", "10.0.0.1:65536"):
        with pytest.raises(SupvizError, match="needs a port from 1 to 65535"):
            cluster.check_scheduler(bad)
    assert cluster.check_scheduler("tcp://127.0.0.1:65535") == "tcp://127.0.0.1:65535"
