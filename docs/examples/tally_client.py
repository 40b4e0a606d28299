#!/usr/bin/env python3
"""A small Tally HTTP client for agents: the Python standard library only. Copy it.

    client = TallyClient("http://127.0.0.1:8080", key=os.environ["TALLY_KEY"])
    client.append("agent-7", [{"type": "task.completed", "payload": {"task": 42}}])
    results = client.submit_transfers([...], linked=True)
    for event in client.subscribe(from_position=1):
        print(event["position"], event["type"])

Retries are safe: `append` gives every event an id before the first attempt and sends the
same ids on every retry, so an append that committed but whose answer was lost is
recognised by the server (200, "duplicate": true) instead of being written twice. Transfer
ids are idempotency keys too. `subscribe` resumes after a dropped connection from the last
position it saw (the SSE `Last-Event-ID`).

Run it against a server to see it work (the key needs the writer role):

    python3 docs/examples/tally_client.py --url http://127.0.0.1:8080 --key "$TALLY_KEY" --self-test
"""

import argparse
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid


class TallyError(Exception):
    """An RFC 9457 problem from the server: status, stable code, detail, JSON pointer."""

    def __init__(self, status, problem):
        self.status = status
        self.code = problem.get("code", "http_%d" % status)
        self.detail = problem.get("detail", "")
        self.pointer = problem.get("pointer")
        super().__init__("%d %s: %s" % (status, self.code, self.detail))


class TallyClient:
    RETRY_STATUSES = {429, 502, 503, 504}

    def __init__(self, url, key, attempts=5, timeout=30.0, signing_secret=None):
        """`signing_secret` (printed by `tally keys create`) signs every request with
        HMAC-SHA256 instead of sending the key itself."""
        self.url = url.rstrip("/")
        self.key = key
        self.signing_secret = signing_secret
        self.attempts = attempts
        self.timeout = timeout

    def request(self, method, path, body=None):
        """Sends a request, retrying on connection errors, 429 and 5xx with backoff (and
        Retry-After when the server sends one). Returns the parsed JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        delay = 0.2
        for attempt in range(self.attempts):
            request = urllib.request.Request(self.url + path, data=data, method=method)
            self.authorize(request, method, path, data or b"")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                problem = json.loads(error.read() or b"{}")
                if error.code not in self.RETRY_STATUSES or attempt == self.attempts - 1:
                    raise TallyError(error.code, problem)
                delay = float(error.headers.get("Retry-After", delay))
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == self.attempts - 1:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def authorize(self, request, method, path, body):
        """Bearer key, or (with a signing secret) X-Tally-Key, -Timestamp and -Signature:
        HMAC-SHA256 over METHOD, PATH?QUERY, the timestamp and the body's SHA-256. A retry
        signs anew (the server refuses a signature it has seen)."""
        if self.signing_secret is None:
            request.add_header("Authorization", "Bearer " + self.key)
            return
        timestamp = str(int(time.time()))
        message = "\n".join([method, path, timestamp, hashlib.sha256(body).hexdigest()])
        signature = hmac.new(self.signing_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        request.add_header("X-Tally-Key", self.key.split("_")[1])
        request.add_header("X-Tally-Timestamp", timestamp)
        request.add_header("X-Tally-Signature", signature)

    def append(self, stream, events, expected_version="any"):
        """Appends events to one stream. Each event gets an id now, reused on every retry."""
        events = [dict(event, id=event.get("id") or str(uuid.uuid4())) for event in events]
        return self.request("POST", "/v1/streams/%s/events" % stream, {"expected_version": expected_version, "events": events})

    def open_account(self, account_id, agent, currency, flags=()):
        return self.request("POST", "/v1/accounts", {"id": account_id, "agent": agent, "currency": currency, "flags": list(flags)})

    def submit_transfers(self, transfers, linked=False):
        """Submits a batch; returns one result per transfer: {"index", "code", "message"}.
        Amounts are strings of digits in minor units."""
        return self.request("POST", "/v1/transfers", {"linked": linked, "transfers": transfers})["results"]

    def balance(self, account_id):
        return self.request("GET", "/v1/accounts/%s/balance" % account_id)

    def subscribe(self, from_position=1, max_events=None):
        """Yields events from `from_position` on as they commit, reconnecting after a dropped
        connection from the last position seen."""
        last = from_position - 1
        received = 0
        while max_events is None or received < max_events:
            path = "/v1/subscribe?from_position=%d" % (last + 1)
            if max_events is not None:
                path += "&max_events=%d" % (max_events - received)
            request = urllib.request.Request(self.url + path)
            request.add_header("Authorization", "Bearer " + self.key)
            if last > 0:
                request.add_header("Last-Event-ID", str(last))
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = []
                    for raw in response:
                        line = raw.decode().rstrip("\n")
                        if line.startswith("data: "):
                            data.append(line[6:])
                        elif line == "" and data:
                            event = json.loads("\n".join(data))
                            data = []
                            last = event["position"]
                            received += 1
                            yield event
                if max_events is not None and received >= max_events:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1.0)


def self_test(client):
    """Exercises every call above and checks the answers; exits non-zero on a mismatch."""
    run = uuid.uuid4().hex[:8]
    treasury, wallet = "treasury-" + run, "wallet-" + run
    client.open_account(treasury, "ops", "APX")
    client.open_account(wallet, "agent-" + run, "APX", ["debits_must_not_exceed_credits"])

    # Appending twice with the same ids (a retry after a lost answer) writes once.
    events = [{"id": str(uuid.uuid4()), "type": "task.completed", "payload": {"task": 1}}]
    first = client.append("agent-" + run, events)
    retry = client.append("agent-" + run, events)
    assert retry["duplicate"] and retry["positions"] == first["positions"], retry

    results = client.submit_transfers([
        {"id": "pay-" + run, "debit_account": treasury, "credit_account": wallet, "amount": "500", "currency": "APX"},
        {"id": "over-" + run, "debit_account": wallet, "credit_account": treasury, "amount": "9999", "currency": "APX"},
    ], linked=True)
    assert [r["code"] for r in results] == ["linked_event_failed", "exceeds_credits"], results
    results = client.submit_transfers([
        {"id": "pay-" + run, "debit_account": treasury, "credit_account": wallet, "amount": "500", "currency": "APX"}])
    assert results[0]["code"] == "ok", results
    assert client.balance(wallet)["balance"] == "500"

    try:
        client.append("agent-" + run, [{"type": "Not A Type", "payload": {}}])
        raise AssertionError("a bad event type was accepted")
    except TallyError as error:
        assert error.status == 400 and error.code == "invalid_event_type", error

    # Since the append: the appended event and the transfer (the refused calls wrote nothing).
    seen = [event["position"] for event in client.subscribe(from_position=first["first_position"], max_events=2)]
    assert seen == [first["first_position"], first["first_position"] + 1], seen
    print("self-test passed: append with retry, linked batch results, balance, problem details, subscription")


def signed_self_test(client):
    """A signed append and a signed read."""
    result = client.append("agent-signed", [{"type": "task.completed", "payload": {"signed": True}}])
    events = client.request("GET", "/v1/events?from_position=%d&limit=1" % result["first_position"])["events"]
    assert events[0]["metadata"].get("actor") and events[0]["payload"] == {"signed": True}, events
    print("signed self-test passed: HMAC-signed append and read")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--key", required=True, help="an API key with the writer role")
    parser.add_argument("--self-test", action="store_true", help="run every call and check the answers")
    parser.add_argument("--follow", action="store_true", help="print events as they commit")
    parser.add_argument("--signing-secret", help="sign requests with HMAC-SHA256 (the secret `tally keys create` printed)")
    arguments = parser.parse_args()
    tally = TallyClient(arguments.url, arguments.key)
    if arguments.self_test:
        self_test(tally)
        if arguments.signing_secret:
            signed_self_test(TallyClient(arguments.url, arguments.key, signing_secret=arguments.signing_secret))
    if arguments.follow:
        for item in tally.subscribe():
            print(item["position"], item["stream"], item["type"], json.dumps(item.get("payload")))
