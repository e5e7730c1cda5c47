"""The fake Salesforce's HTTP plumbing: a threaded server whose handler turns raw
requests into `FakeSalesforce._answer` calls and writes the JSON replies."""

import contextlib
import json
import socket
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

from .api import Reply

MAX_BODY_BYTES = 10_000_000


class FakeSalesforceHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: Any):
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, FakeSalesforceHandler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def connections_close(self) -> None:
        """End kept-alive connections too, so a stopped fake is as gone as a dead host."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we never need; skip it.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up mid-handshake or mid-answer is normal in fault tests.
        return


class FakeSalesforceHandler(BaseHTTPRequestHandler):
    server: FakeSalesforceHTTPServer
    server_version = "FakeSalesforce/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without this, Nagle's algorithm meets the
    # client's delayed ACK and every keep-alive answer waits 40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        reply, delay = fake._answer(
            method=self.command,
            path=url.path,
            query=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            raw=self._body_read(),
        )
        if delay:
            fake._hold(delay)
        self._reply_write(reply)

    def _body_read(self) -> str:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        return self.rfile.read(length).decode("utf-8") if length else ""

    def _reply_write(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            if reply.status != 204:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
            self.send_header("Sforce-Limit-Info", "api-usage=1/15000")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return
