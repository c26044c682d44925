"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 that misbehaves on request."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def chat_body(text: str = "hello", prompt_tokens: int = 5) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 1,
            "total_tokens": prompt_tokens + 1,
        },
    }


def _chunk(delta: dict[str, str], finish_reason: str | None = None) -> bytes:
    body = {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that gave up (timeouts, broken streams) are part of the tests
        pass


class StubServer:
    """Answers from a script of actions; the default action is a good answer.

    Actions: ("json", status, body), ("raw", status, bytes), ("sleep", seconds),
    ("stream", pieces, break_after or None), ("truncated", pieces): a stream
    that ends cleanly at the HTTP level but before its last chunk.
    """

    def __init__(self) -> None:
        self.script: deque[tuple[Any, ...]] = deque()
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, b'{"object": "list", "data": []}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                stub.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                action = stub.script.popleft() if stub.script else ("json", 200, None)
                if action[0] == "sleep":
                    time.sleep(action[1])
                    action = ("json", 200, None)
                if action[0] == "json":
                    body = action[2] if action[2] is not None else chat_body()
                    self._send(action[1], json.dumps(body).encode())
                elif action[0] == "raw":
                    self._send(action[1], action[2])
                elif action[0] == "stream":
                    self._stream(action[1], action[2])
                elif action[0] == "truncated":
                    self._stream(action[1], None, finish=False)

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(
                self, pieces: list[str], break_after: int | None, finish: bool = True
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for index, piece in enumerate(pieces):
                    if break_after is not None and index >= break_after:
                        # half a chunk, then hang up: a broken stream
                        self.wfile.write(b"ff\r\ndata: {")
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self._chunked(_chunk({"content": piece}))
                if finish:
                    # as real servers end a stream: a last chunk that names why
                    # it finished, then the [DONE] sentinel
                    self._chunked(_chunk({}, finish_reason="stop"))
                    self._chunked(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def _chunked(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.02,), daemon=True
        )
        self.thread.start()

    @property
    def api_base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
