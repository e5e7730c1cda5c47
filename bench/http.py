"""A real HTTP server on 127.0.0.1 for the bench: requests pay what a deployment's do
(socket, HTTP parsing, WSGI), not just the view."""

import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def wsgi_server():
    """Serves the Django app; yields its base URL and stops when the block ends."""
    # One serving thread, like one synchronous app-server worker: it keeps its database
    # connection between requests, as a deployment does.
    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=WSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
