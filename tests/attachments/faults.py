"""Stores that fail the ways real ones do: stopped (nothing listens), stalled (connections
accepted, never answered), or going down in the middle of an upload."""

from __future__ import annotations

import socket
import threading


def closed_port() -> int:
    """A loopback port nothing listens on: a stopped store."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StalledStore:
    """Accepts connections and reads what is sent, but never answers (a hung store)."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._swallow, args=(connection,), daemon=True).start()

    @staticmethod
    def _swallow(connection):
        try:
            while connection.recv(65536):
                pass
        except OSError:
            pass

    def close(self):
        self._listener.close()
        for connection in self._connections:
            connection.close()


class OutageProxy:
    """A TCP proxy in front of a store that goes down for good once ``budget`` bytes of
    requests have passed: the connection in flight is cut and new ones are refused."""

    def __init__(self, upstream_url: str, budget: int):
        scheme, _, host_port = upstream_url.partition("://")
        host, _, port = host_port.rstrip("/").rpartition(":")
        self._upstream = (host, int(port))
        self._budget = budget
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint_url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"
        self.is_down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, sink, is_request):
        try:
            while data := source.recv(65536):
                if is_request:
                    with self._lock:
                        self._budget -= len(data)
                        spent = self._budget < 0
                    if spent:
                        self.go_down()
                        return
                sink.sendall(data)
        except OSError:
            pass

    def go_down(self):
        self.is_down = True
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
