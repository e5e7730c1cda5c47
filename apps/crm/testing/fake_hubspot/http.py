"""HTTP plumbing of the fake HubSpot: requests in, HubSpot-shaped JSON out."""

import json
import socket
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake import FakeHubSpot

MAX_BODY_BYTES = 10_000_000


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # the decoded JSON body, or None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def list_param(self, name: str) -> list[str] | None:
        """HubSpot takes lists comma separated, or as repeated parameters."""
        values = self.query.get(name)
        if values is None:
            return None
        return [item for value in values for item in value.split(",") if item]

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (without its Authorization header), and its status."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    received_at: datetime


def error_reply(status: int, message: str, category: str, **extra: Any) -> Reply:
    """HubSpot's error body: status, message, correlationId and a category."""
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Reply(status=status, body=body)


class FakeHubSpotHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: "FakeHubSpot"):
        self.fake = fake
        super().__init__(address, FakeHubSpotHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we never need; skip it.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port


class FakeHubSpotHandler(BaseHTTPRequestHandler):
    server: FakeHubSpotHTTPServer
    server_version = "FakeHubSpot/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are reported through FakeHubSpot.on_request, without tokens

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        raw = self._body_read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        request = ApiRequest(
            method=self.command,
            path=url.path,
            query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        fake = self.server.fake
        reply, delay = fake._answer(request)
        if delay:
            fake._hold(delay)
        self._reply_write(reply)

    def _body_read(self) -> bytes:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        return self.rfile.read(length) if length else b""

    def _reply_write(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (its timeout fired during a delay)
