"""Drill: the worker dies with kill -9 in the middle of a dispatch. Whether Twilio already
took the message or never saw the request, the message ends sent by exactly one provider
call: a restarted worker and the sweep reconcile it with Twilio, never resend blindly."""

import os
import signal
import socket
import threading
from pathlib import Path

from apps.sends.models import MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.messages import message_create
from apps.sends.tasks import messages_sweep_task
from tests.drills.conftest import WORKER_DRILL, minutes_pass, posts, tasks_to, twilio_env
from tests.workers import ROOT, celery_worker_process, wait_for

pytestmark = WORKER_DRILL

BODY = "Acme: your route planner trial ends Friday. Reply STOP to opt out."
HELD = 30.0  # the fake holds its answer this long; the worker would wait for it (timeout 60 s)


class StalledEndpoint:
    """A host that accepts connections and never answers: a request sent here is in flight
    for good and never reaches Twilio (a hung proxy or network path)."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self._connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.getsockname()[:2]
        return f"http://{host}:{port}"

    def connections(self) -> int:
        return len(self._connections)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                accepted, _ = self._server.accept()
            except TimeoutError:
                continue
            self._connections.append(accepted)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        for accepted in self._connections:
            accepted.close()
        self._server.close()


def message_for(contact) -> OutboundMessage:
    """Created as a journey step would: queued, and its dispatch enqueued after commit."""
    message = message_create(
        send_key=f"drill:killed:{contact.pk}",
        origin="journey",
        category="marketing",
        contact=contact,
        body=BODY,
    )
    assert message.status == MessageStatus.QUEUED
    return message


def settled(message: OutboundMessage) -> OutboundMessage | None:
    message.refresh_from_db()
    return message if message.status == MessageStatus.SENT else None


def provider_events(message: OutboundMessage) -> list[dict]:
    return list(
        message.log.filter(kind=MessageEvent.Kind.PROVIDER).values_list("detail", flat=True)
    )


def test_a_worker_killed_after_twilio_accepted_is_reconciled_and_never_resent(
    fake_twilio, sms_contact
):
    # Given a worker sending a message that Twilio accepts but answers too late
    fake_twilio.delay_next(HELD)
    env = twilio_env(fake_twilio, TWILIO_TIMEOUT_SECONDS="60")
    with celery_worker_process(env=env) as worker, tasks_to(worker.queue):
        message = message_for(sms_contact())
        accepted = wait_for(lambda: posts(fake_twilio), timeout=60)
        # When the worker is killed while it waits for that answer
        worker.kill()
    assert accepted, "the worker never called Twilio (see var/test-*.log)"
    message.refresh_from_db()
    assert (message.status, message.provider_sid, message.attempts) == ("sending", None, 1)

    # And, five minutes on, a restarted worker runs the sweep
    minutes_pass(6)
    with (
        celery_worker_process(env=twilio_env(fake_twilio), queue=worker.queue) as restarted,
        tasks_to(restarted.queue),
    ):
        messages_sweep_task.delay()
        sent = wait_for(lambda: settled(message), timeout=60)

    # Then Twilio was asked once to send and once what it has: the message is recorded as
    # sent under the sid Twilio gave it, with no second send
    assert sent, "the sweep never reconciled the message (see var/test-*.log)"
    assert [(r.method, r.status) for r in fake_twilio.requests] == [("POST", 201), ("GET", 200)]
    [sid] = fake_twilio.message_sids()
    assert (sent.provider_sid, sent.attempts, sent.needs_reconciliation) == (sid, 1, False)
    assert provider_events(sent) == [{"provider_sid": sid, "provider_status": "sent"}]
    assert [p.form["To"] for p in posts(fake_twilio)] == [sent.to_address]


def test_a_worker_killed_before_its_request_reached_twilio_is_sent_again_exactly_once(
    fake_twilio, sms_contact
):
    # Given a worker whose request to Twilio hangs on the way, never arriving
    with StalledEndpoint() as stalled:
        env = twilio_env(fake_twilio, TWILIO_API_BASE_URL=stalled.url, TWILIO_TIMEOUT_SECONDS="60")
        with celery_worker_process(env=env) as worker, tasks_to(worker.queue):
            message = message_for(sms_contact())
            in_flight = wait_for(stalled.connections, timeout=60)
            # When the worker is killed with the request in flight
            worker.kill()
    assert in_flight, "the worker never called Twilio (see var/test-*.log)"
    assert fake_twilio.requests == []

    # And, past the reconciliation grace period, a restarted worker runs the sweep
    minutes_pass(11)
    with (
        celery_worker_process(env=twilio_env(fake_twilio), queue=worker.queue) as restarted,
        tasks_to(restarted.queue),
    ):
        messages_sweep_task.delay()
        sent = wait_for(lambda: settled(message), timeout=60)

    # Then Twilio was first asked whether it has the message, and only then sent it, once
    assert sent, "the sweep never sent the message again (see var/test-*.log)"
    assert [(r.method, r.status) for r in fake_twilio.requests] == [("GET", 200), ("POST", 201)]
    [sid] = fake_twilio.message_sids()
    assert (sent.provider_sid, sent.attempts) == (sid, 2)
    requeued = sent.log.filter(kind=MessageEvent.Kind.TRANSITION, status=MessageStatus.QUEUED)
    assert [event.detail["reason"] for event in requeued] == ["not at the provider"]


def test_a_killed_pool_process_hands_its_task_back_and_the_rerun_sends_nothing(
    fake_twilio, sms_contact
):
    # Given a prefork worker whose pool process is sending a message Twilio accepted
    fake_twilio.delay_next(HELD)
    env = twilio_env(fake_twilio, TWILIO_TIMEOUT_SECONDS="60")
    with celery_worker_process(pool="prefork", env=env) as worker, tasks_to(worker.queue):
        message = message_for(sms_contact())
        assert wait_for(lambda: posts(fake_twilio), timeout=60), "no call to Twilio"
        # When only that pool process is killed (reject_on_worker_lost hands the task back)
        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
        rerun = wait_for(lambda: "'not_claimed'" in worker_log(worker.queue), timeout=60)

        # Then the task ran again, found the message claimed and sent nothing; the sweep
        # reconciles the message with Twilio's copy
        minutes_pass(6)
        messages_sweep_task.delay()
        sent = wait_for(lambda: settled(message), timeout=60)
    assert rerun, "the lost task was never handed back (see var/test-*.log)"
    assert sent, "the sweep never reconciled the message (see var/test-*.log)"
    assert [(r.method, r.status) for r in fake_twilio.requests] == [("POST", 201), ("GET", 200)]
    [sid] = fake_twilio.message_sids()
    assert (sent.provider_sid, sent.attempts) == (sid, 1)


def pool_children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc/<pid>/stat (its 4th field)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        if parent == pid:
            children.append(int(stat.parent.name))
    return children


def worker_log(queue: str) -> str:
    return "".join(path.read_text() for path in (ROOT / "var").glob(f"{queue}-*.log"))
