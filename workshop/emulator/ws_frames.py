"""API Gateway's 32 KB WebSocket frame quota, which aiohttp cannot enforce by itself.

AWS documents two size quotas for what a client sends: a message of at most 128 KB, and
frames of at most 32 KB each (a bigger message must be split into frames); "if a larger
message (or larger frame size) is received, the connection is closed with code 1009".
aiohttp's WebSocket reader checks only the size of whole messages and reassembles frames
inside itself, with no per-frame hook. So this module watches the raw byte stream before
the reader does:

* :class:`FrameSizeScanner` is sans-I/O: it follows frame boundaries in the bytes a
  client sends and reports the first data frame whose declared payload is over the limit,
  as soon as its header has arrived (before any of the payload is buffered);
* :class:`FrameQuotaResponse` is an aiohttp ``WebSocketResponse`` that puts a scanner in
  front of its reader. An oversized frame fails the reader with ``WebSocketError(1009)``,
  exactly as aiohttp fails an oversized message, so the gateway sees one kind of error.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import WebSocketError, WSCloseCode, web

__all__ = ["FrameQuotaResponse", "FrameSizeScanner"]

log = logging.getLogger("workshop.gateway")

_TEXT, _BINARY, _CONTINUATION = 0x1, 0x2, 0x0
_DATA_OPCODES = frozenset({_CONTINUATION, _TEXT, _BINARY})


def _header_size(second_byte: int) -> int:
    """A frame header's length in bytes, known once its second byte has arrived."""
    length_code = second_byte & 0x7F
    extended = 2 if length_code == 126 else 8 if length_code == 127 else 0
    masked = 4 if second_byte & 0x80 else 0
    return 2 + extended + masked


def _payload_length(header: bytes | bytearray) -> int:
    length_code = header[1] & 0x7F
    if length_code == 126:
        return int.from_bytes(header[2:4], "big")
    if length_code == 127:
        return int.from_bytes(header[2:10], "big")
    return length_code


class FrameSizeScanner:
    """Follows the frames of a client's byte stream; reports a data frame over ``limit``.

    Feed it every byte the client sends, in order. It keeps only an incomplete header
    (at most 14 bytes) and the count of payload bytes still to skip, so it costs a few
    operations per frame whatever the frames' sizes.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._header = bytearray()
        self._skip = 0  # payload bytes of the current frame not seen yet

    def feed(self, data: bytes) -> int | None:
        """The payload length of the first data frame above the limit, or None so far."""
        position, end = 0, len(data)
        while position < end:
            if self._skip:
                step = min(self._skip, end - position)
                self._skip -= step
                position += step
                continue
            if len(self._header) < 2:
                taken = data[position:position + 2 - len(self._header)]
                self._header += taken
                position += len(taken)
                if len(self._header) < 2:
                    break
            missing = _header_size(self._header[1]) - len(self._header)
            if missing > 0:
                taken = data[position:position + missing]
                self._header += taken
                position += len(taken)
                if len(taken) < missing:
                    break
            opcode, length = self._header[0] & 0x0F, _payload_length(self._header)
            self._header.clear()
            # Control frames (close, ping, pong) are capped at 125 bytes by the protocol.
            if opcode in _DATA_OPCODES and length > self.limit:
                return length
            self._skip = length
        return None


class _GuardedReader:
    """Stands in front of aiohttp's WebSocket reader as the connection's payload parser."""

    def __init__(self, reader: Any, queue: Any, limit: int) -> None:
        self._reader = reader
        self._queue = queue
        self._scanner = FrameSizeScanner(limit)
        self._refused = False

    def feed_data(self, data: bytes | bytearray | memoryview) -> tuple[bool, bytes]:
        if self._refused:
            return True, b""
        length = self._scanner.feed(bytes(data))
        if length is not None:
            self._refused = True
            # What aiohttp's reader does with an oversized message: fail the queue (the
            # handler's receive() then closes with this code) and stop reading.
            self._queue.set_exception(WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"Frame size {length} exceeds the {self._scanner.limit} byte frame quota"))
            return True, b""
        result: tuple[bool, bytes] = self._reader.feed_data(data)
        return result

    def feed_eof(self) -> None:
        self._reader.feed_eof()


class FrameQuotaResponse(web.WebSocketResponse):
    """A server WebSocket whose client frames may not carry more than ``max_frame_size``.

    It wraps the reader aiohttp installs on the connection (private attributes of
    aiohttp 3.14, checked here: if they move, the quota is skipped with a warning and
    tests/emulator/test_ws_frames.py fails).
    """

    def __init__(self, *, max_frame_size: int, **options: Any) -> None:
        super().__init__(**options)
        self._max_frame_size = max_frame_size

    def _post_start(self, request: web.BaseRequest, protocol: str | None,
                    writer: Any) -> None:
        handler = request.protocol
        # Bytes a client sent right behind its handshake are fed to the reader as soon as
        # it is installed: hold them back so the guard sees them first.
        early = getattr(handler, "_message_tail", b"")
        if early:
            handler._message_tail = b""
        super()._post_start(request, protocol, writer)
        reader, queue = getattr(self, "_parser", None), getattr(self, "_reader", None)
        if reader is None or queue is None or getattr(
                handler, "_payload_parser", None) is not reader:
            log.warning("this aiohttp version hides its WebSocket reader: "
                        "the 32 KB frame quota is not enforced")
            parser = getattr(handler, "_payload_parser", None)
            if early and parser is not None:
                parser.feed_data(early)
            return
        guard = _GuardedReader(reader, queue, self._max_frame_size)
        handler._payload_parser = guard
        if early:
            guard.feed_data(early)
