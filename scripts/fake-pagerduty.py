#!/usr/bin/env python3
"""A local stand-in for PagerDuty's Events API v2, for the helloworld demo.

Listens on 127.0.0.1 only and records what Alertmanager sends it:

  POST /v2/enqueue   an Events API v2 event (what the team's PagerDuty
                     receiver posts, `pagerduty.url` in obsgen.yaml); checked
                     like PagerDuty does (202 when valid, 400 with the
                     errors when not)
  POST /hook         the team's webhook (tickets: everything that does not page)
  GET  /events       everything received so far, oldest first, as JSON:
                     [{"path": ..., "status": ..., "body": ...,
                       "received_at": <Unix time in seconds>}, ...]

Each event is also printed on one line, and appended to --log as a JSON
line when given. Used by `make demo` (scripts/demo.sh) and by the
end-to-end test (tests/integration/e2e.rs).

Usage: fake-pagerduty.py --port PORT [--log FILE]
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEVERITIES = {"critical", "error", "warning", "info"}
ACTIONS = {"trigger", "acknowledge", "resolve"}


def event_errors(event):
    """What PagerDuty would refuse in an Events API v2 body."""
    if not isinstance(event, dict):
        return ["the body is not a JSON object"]
    errors = []
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) != 32:
        errors.append("'routing_key' must be a 32-character string")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    if action != "trigger":
        if not event.get("dedup_key"):
            errors.append("'dedup_key' is required to acknowledge or resolve")
        return errors
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return errors + ["'payload' is required to trigger"]
    for field in ("summary", "source"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            errors.append(f"'payload.{field}' is required")
    if len(payload.get("summary") or "") > 1024:
        errors.append("'payload.summary' is longer than 1024 characters")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    for link in event.get("links") or []:
        if not isinstance(link, dict) or not link.get("href"):
            errors.append("every link needs an 'href'")
    return errors


class Recorder:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.events = []
        self.log_path = log_path

    def add(self, record):
        with self.lock:
            self.events.append(record)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")

    def all(self):
        with self.lock:
            return list(self.events)


def describe(record):
    body = record["body"]
    if record["path"] == "/v2/enqueue" and isinstance(body, dict):
        payload = body.get("payload") or {}
        return (
            f"PagerDuty {body.get('event_action')} ({record['status']}) "
            f"dedup_key={body.get('dedup_key')} severity={payload.get('severity')} "
            f"summary={payload.get('summary')!r}"
        )
    if isinstance(body, dict):
        alerts = ", ".join(
            f"{a.get('labels', {}).get('alertname')} {a.get('labels', {}).get('service')}"
            f"/{a.get('labels', {}).get('env')}"
            for a in body.get("alerts") or []
        )
        return f"webhook {body.get('status')} to {body.get('receiver')}: {alerts}"
    return f"{record['path']}: {body!r}"


def handler_for(recorder):
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, document):
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/events":
                self.answer(200, recorder.all())
            else:
                self.answer(404, {"message": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            if self.path == "/v2/enqueue":
                errors = event_errors(body)
                if errors:
                    status, answer = 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
                else:
                    status, answer = 202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
            elif self.path == "/hook":
                status, answer = 200, {"status": "ok"}
            else:
                self.answer(404, {"message": "not found"})
                return
            record = {"path": self.path, "status": status, "body": body, "received_at": time.time()}
            recorder.add(record)
            print(f"fake-pagerduty: {describe(record)}", flush=True)
            self.answer(status, answer)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(Recorder(args.log)))
    print(f"fake-pagerduty: listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
