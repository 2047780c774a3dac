"""A Zendesk and a Jira Cloud on 127.0.0.1 (pytest-httpserver, a real HTTP server in the test's
process) serving pages in the documented shapes, scripted per test: which cursor gives which page,
and which answers fail first."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

EXPORT = "/api/v2/incremental/tickets/cursor.json"
SEARCH = "/rest/api/3/search/jql"


def zd_ticket(number: int, *, subject: str = "Checkout fails", priority: str | None = "high",
              status: str = "open", tags: tuple[str, ...] = ("escalated",), assignee_id: int | None = 501,
              organization_id: int | None = 901, created: str = "2026-11-27T09:00:00Z",
              updated: str = "2026-11-27T10:00:00Z") -> dict:
    return {"id": number, "url": f"https://acme.zendesk.com/api/v2/tickets/{number}.json", "subject": subject,
            "description": "…", "priority": priority, "status": status, "assignee_id": assignee_id,
            "requester_id": 77, "organization_id": organization_id, "group_id": None, "tags": list(tags),
            "custom_fields": [], "via": {"channel": "email"}, "created_at": created, "updated_at": updated}


def zd_page(tickets: list[dict], after: str, *, end: bool = False) -> dict:
    return {"tickets": tickets, "after_cursor": after, "after_url": f"https://x{EXPORT}?cursor={after}",
            "before_cursor": None, "end_of_stream": end,
            "users": [{"id": 501, "email": "ravi.k@example.com", "name": "Ravi"}],
            "organizations": [{"id": 901, "name": "Acme Corp"}]}


Answer = dict | Callable[[Request], Response]


@dataclass
class Tracker:
    """The scripted server: `pages[key]` is what the cursor (or "start") gets, after the answers
    queued in `failures[key]`; every request is recorded (path, its key, its Authorization)."""

    server: HTTPServer
    pages: dict[str, Answer] = field(default_factory=dict)
    failures: dict[str, list[Answer]] = field(default_factory=dict)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def answer(self, request: Request, key: str) -> Response:
        self.seen.append((request.path, key, request.headers.get("Authorization")))
        queued = self.failures.get(key)
        reply = queued.pop(0) if queued else self.pages.get(key)
        if reply is None:
            return Response(json.dumps({"error": "unknown cursor"}), status=400, content_type="application/json")
        return reply(request) if callable(reply) else Response(json.dumps(reply), content_type="application/json")

    def serve_zendesk(self) -> Tracker:
        def handle(request: Request) -> Response:
            key = request.args.get("cursor") or "start"
            return self.answer(request, key)
        self.server.expect_request(EXPORT).respond_with_handler(handle)
        return self

    def serve_jira(self) -> Tracker:
        def handle(request: Request) -> Response:
            body = request.get_json()
            self.jql.append(body["jql"])
            first = "dropped" if " AND NOT (" in body["jql"] else "start"  # linked issues that left the query
            return self.answer(request, body.get("nextPageToken") or first)
        self.jql: list[str] = []
        self.server.expect_request(SEARCH, method="POST").respond_with_handler(handle)
        return self


def status(code: int, headers: dict[str, str] | None = None, body: str = "") -> Callable[[Request], Response]:
    return lambda request: Response(body or json.dumps({"error": code}), status=code, headers=headers or {},
                                    content_type="application/json")


def reset(request: Request) -> Response:
    """The connection dropped without an answer."""
    sock = request.environ.get("werkzeug.socket")
    assert isinstance(sock, socket.socket), "the server exposes its socket"
    sock.shutdown(socket.SHUT_RDWR)
    return Response("")


@dataclass
class Comments:
    """The comment endpoints of a Zendesk (`PUT /api/v2/tickets/{id}.json`, `GET …/comments.json`)
    and a Jira (`POST`/`GET /rest/api/3/issue/{key}/comment`), keeping what they were sent, and the
    assignee ones (Zendesk's PUT with `assignee_id`, Jira's `PUT …/assignee`) keeping each assignee
    set, in order. A send
    first takes the answers queued in `failures`; `hold_next`, once, runs after the next comment is
    taken and before it is answered (a tracker that answers late, or never)."""

    server: HTTPServer
    posted: dict[str, list[dict]] = field(default_factory=dict)  # ticket -> comments, oldest first
    failures: list[Answer] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    hold_next: Callable[[], object] | None = None
    statuses: dict[str, str] = field(default_factory=dict)  # ticket -> the status a Zendesk PUT set
    transitions: list[dict] = field(default_factory=list)  # what a Jira issue offers
    moved: list[tuple[str, str]] = field(default_factory=list)  # (issue, transition id) taken
    assigned: dict[str, list[int | str | None]] = field(default_factory=dict)  # ticket -> assignees set, in order

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def serve(self) -> Comments:
        zendesk = re.compile(r"/api/v2/tickets/(?P<id>[^/]+?)(?P<list>/comments)?\.json")
        jira = re.compile(r"/rest/api/3/issue/(?P<id>[^/]+)/comment")
        self.server.expect_request(zendesk).respond_with_handler(lambda r: self._answer(r, zendesk, "zendesk"))
        self.server.expect_request(jira).respond_with_handler(lambda r: self._answer(r, jira, "jira"))
        self.server.expect_request(re.compile(r"/rest/api/3/issue/[^/]+/transitions")).respond_with_handler(
            self._transition)
        self.server.expect_request(re.compile(r"/rest/api/3/issue/[^/]+/assignee"), method="PUT").respond_with_handler(
            self._assign)
        return self

    def _assign(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        if self.failures:
            reply = self.failures.pop(0)
            return reply(request) if callable(reply) else Response(json.dumps(reply), content_type="application/json")
        self.assigned.setdefault(request.path.split("/")[-2], []).append(request.get_json()["accountId"])
        return Response(status=204)

    def _transition(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        if request.method == "GET":
            return Response(json.dumps({"transitions": self.transitions}), content_type="application/json")
        self.moved.append((request.path.split("/")[-2], request.get_json()["transition"]["id"]))
        return Response(status=204)

    def _answer(self, request: Request, pattern: re.Pattern, kind: str) -> Response:
        self.requests.append((request.method, request.path))
        found = pattern.fullmatch(request.path)
        assert found is not None
        ticket = found.group("id")
        if request.method == "GET":
            comments = list(reversed(self.posted.get(ticket, [])))
            return Response(json.dumps({"comments": comments}), content_type="application/json")
        if self.failures:
            reply = self.failures.pop(0)
            return reply(request) if callable(reply) else Response(json.dumps(reply), content_type="application/json")
        sent = request.get_json()
        if kind == "zendesk" and "comment" not in sent["ticket"]:
            self.assigned.setdefault(ticket, []).append(sent["ticket"]["assignee_id"])
            return Response(json.dumps({"ticket": {"id": int(ticket)} | sent["ticket"]}),
                            content_type="application/json")
        number = 98765 + sum(len(c) for c in self.posted.values())
        if kind == "zendesk":
            comment = sent["ticket"]["comment"]
            if "status" in sent["ticket"]:
                self.statuses[ticket] = sent["ticket"]["status"]
            kept = {"id": number, "body": comment["body"], "plain_body": comment["body"], "public": comment["public"]}
            answer: dict = {"ticket": {"id": int(ticket)}, "audit": {"events": [{"id": number, "type": "Comment"}]}}
        else:
            kept = {"id": str(number), "body": sent["body"], "properties": sent.get("properties")}
            answer = {"id": str(number), "body": sent["body"]}
        self.posted.setdefault(ticket, []).append(kept)
        hold, self.hold_next = self.hold_next, None
        if hold is not None:
            hold()
        return Response(json.dumps(answer), content_type="application/json")
