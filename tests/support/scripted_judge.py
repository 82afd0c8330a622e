"""A scripted, OpenAI-compatible judge server for end-to-end tests.

The server answers from the prompt it receives: it finds the presented responses between
``[The Start of Assistant X's Answer]\\n`` and ``\\n[The End of Assistant X's Answer]`` (X = A..D) and
hands them, with the chat messages, to a policy ``(slot_texts, messages) -> reply text``. Plain
prompts (``/v1/completions``) are passed to the policy as one user message. Every request body is
recorded.

Usage::

    with ScriptedJudge(policy) as base_url:   # e.g. "http://127.0.0.1:54321/v1"
        ...                                   # POST {base_url}/chat/completions

A ``fault`` hook can make the n-th request (1-based) fail, for reliability tests: it returns
``None`` (answer normally), ``"500"`` (HTTP 500), ``"empty_choices"``, ``"null_content"``,
``"no_message"`` (a choice without its message) or ``"hang"`` (block until the server stops).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, Any]]
Policy = Callable[[list[str], Messages], str]
Fault = Callable[[int], "str | None"]

SLOT_LETTERS = "ABCD"


def start_marker(letter: str) -> str:
    return f"[The Start of Assistant {letter}'s Answer]\n"


def end_marker(letter: str) -> str:
    return f"\n[The End of Assistant {letter}'s Answer]"


def extract_slots(text: str) -> list[str]:
    """The presented responses of a judge prompt, in slot order (A, B, ...); stops at the first gap."""
    slots: list[str] = []
    position = 0
    for letter in SLOT_LETTERS:
        start = text.find(start_marker(letter), position)
        if start < 0:
            break
        start += len(start_marker(letter))
        end = text.find(end_marker(letter), start)
        if end < 0:
            break
        slots.append(text[start:end])
        position = end + len(end_marker(letter))
    return slots


def message_text(content: Any) -> str:
    """Text of a chat message's content (a string, or a list of ``{"type": "text"}`` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


@dataclass
class RecordedRequest:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    slots: list[str]
    reply: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedJudge:
    """Background HTTP server on 127.0.0.1 (ephemeral port) that answers with ``policy``."""

    CHAT_PATH = "/v1/chat/completions"
    COMPLETIONS_PATH = "/v1/completions"

    def __init__(
        self, policy: Policy, model_name: str = "scripted-judge", fault: Fault | None = None
    ) -> None:
        self.policy = policy
        self.fault = fault
        self._stopping = threading.Event()
        self.model_name = model_name
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> str:
        judge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(404, {"error": {"message": f"no route GET {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                if path not in (judge.CHAT_PATH, judge.COMPLETIONS_PATH):
                    self._send(404, {"error": {"message": f"no route POST {path}"}})
                    return
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError as error:
                    judge._error(f"bad JSON body on {path}: {error}")
                    self._send(400, {"error": {"message": "bad JSON"}})
                    return
                try:
                    status, payload = judge._answer(path, body, dict(self.headers))
                except Exception as error:  # a policy bug must surface in the test, not hang it
                    judge._error(f"{type(error).__name__}: {error}")
                    status, payload = 500, {"error": {"message": str(error)}}
                self._send(status, payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-judge", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------
    def _error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def _answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        chat = path == self.CHAT_PATH
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list):
                raise ValueError("chat request without a messages list")
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            prompt_text = message_text(users[-1].get("content")) if users else ""
        else:
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) > 1:  # a batch of prompts: one choice each
                return self._answer_batch(path, body, headers, prompt)
            if isinstance(prompt, list):  # a batch of one, or token ids (not supported)
                if len(prompt) != 1 or not isinstance(prompt[0], str):
                    raise ValueError("only string prompts are supported")
                prompt = prompt[0]
            if not isinstance(prompt, str):
                raise ValueError("completion request without a string prompt")
            prompt_text = prompt
            messages = [{"role": "user", "content": prompt}]
        slots = extract_slots(prompt_text)
        record = RecordedRequest(path=path, body=body, slots=slots, headers=headers)
        with self._lock:
            self.requests.append(record)
            self._counter += 1
            number = self._counter
        fault = self.fault(number) if self.fault else None
        if fault == "500":
            return 500, {"error": {"message": f"scripted failure of request {number}"}}
        if fault == "hang":
            self._stopping.wait()
            return 503, {"error": {"message": "server stopping"}}
        reply = self.policy(slots, messages)
        record.reply = reply
        usage = {"prompt_tokens": len(prompt_text.split()), "completion_tokens": len(reply.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        common = {
            "id": f"scripted-{number}",
            "created": int(time.time()),
            "model": self.model_name,
            "usage": usage,
        }
        if fault == "empty_choices":
            return 200, {**common, "object": "chat.completion" if chat else "text_completion", "choices": []}
        if fault == "no_message":
            return 200, {
                **common,
                "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop"}],
            }
        if chat:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": None if fault == "null_content" else reply},
                "finish_reason": "stop",
            }
            return 200, {**common, "object": "chat.completion", "choices": [choice]}
        choice = {"index": 0, "text": reply, "logprobs": None, "finish_reason": "stop"}
        return 200, {**common, "object": "text_completion", "choices": [choice]}

    def _answer_batch(
        self, path: str, body: dict[str, Any], headers: dict[str, str], prompts: list[Any]
    ) -> tuple[int, dict[str, Any]]:
        """A completions request carrying several prompts: answer each as its own recorded request."""
        choices = []
        for index, prompt in enumerate(prompts):
            status, payload = self._answer(path, {**body, "prompt": prompt}, headers)
            if status != 200:
                return status, payload
            choices.append({**payload["choices"][0], "index": index})
        return 200, {**payload, "choices": choices}
