"""A fake Amazon SES (v2 API) on 127.0.0.1, for tests: anymail's real amazon_ses backend sends
through boto3 to it over real HTTP (the client's endpoint_url, or AWS_ENDPOINT_URL), so the
request is signed and encoded as it would be for AWS. It answers SendEmail
(POST /v2/email/outbound-emails) with a message id and keeps each raw message it was given."""

import base64
import email
import email.policy
import json
import threading
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEND_PATH = "/v2/email/outbound-emails"


@dataclass(frozen=True)
class SesEmail:
    message_id: str
    request: dict
    authorization: str
    raw: bytes

    @property
    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class FakeSes:
    def __init__(self):
        self.sent: list[SesEmail] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def accept(self, path: str, body: bytes, authorization: str) -> tuple[int, dict]:
        if path != SEND_PATH:
            return 404, {"message": f"No fake for {path}"}
        request = json.loads(body or b"{}")
        raw = base64.b64decode(request["Content"]["Raw"]["Data"])
        sent = SesEmail(str(uuid.uuid4()), request, authorization, raw)
        self.sent.append(sent)
        return 200, {"MessageId": sent.message_id}


def _handler_for(fake: FakeSes):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                status, answer = fake.accept(self.path, body, self.headers.get("Authorization", ""))
            except (ValueError, KeyError, TypeError):
                status, answer = 400, {"message": "Unreadable request"}
            self._answer(status, answer)

        def _answer(self, status: int, answer: dict) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # quiet in tests
            pass

    return Handler
