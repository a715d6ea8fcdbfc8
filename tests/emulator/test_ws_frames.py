"""What API Gateway does with frames a client should not send: too big, binary, not UTF-8.

AWS: "a message larger than 32 KB must be split into multiple frames, each 32 KB or
smaller. If a larger message (or larger frame size) is received, the connection is
closed with code 1009" (WebSocket quotas page), and "if a client app sends a binary
frame, API Gateway rejects it and disconnects the client with code 1003" (binary media
types for WebSocket APIs). Text that is not UTF-8 breaks RFC 6455 itself: 1007.

The scanner is tested on bytes alone; the gateway with real clients, through the harness
of test_gateway.py (a real aiohttp server, a fake Lambda runtime).
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from collections.abc import Iterator

import pytest
import websocket
from test_gateway import (
    WAIT,
    GatewayServer,
    connect,
    eventually,
    game,
    running_gateway,
)

from workshop.emulator.ws_frames import FrameSizeScanner

FRAME, MESSAGE = 1024, 4096  # small quotas, so the tests send kilobytes, not megabytes


def frame(payload: bytes, opcode: int = 0x1, *, fin: bool = True, mask: bool = True) -> bytes:
    """One WebSocket frame as a client puts it on the wire."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


# -- the scanner, bytes in, verdict out ------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 1024, 65535, 65536, 70000])
def test_frames_within_the_limit_pass_whatever_their_length_encoding(size: int) -> None:
    scanner = FrameSizeScanner(limit=70000)
    assert scanner.feed(frame(b"x" * size)) is None
    assert scanner.feed(frame(b"y" * size, mask=False)) is None


@pytest.mark.parametrize("size", [1025, 65536, 70000])
def test_the_first_data_frame_over_the_limit_is_reported(size: int) -> None:
    scanner = FrameSizeScanner(limit=1024)
    stream = frame(b"ok") + frame(b"x" * 1024) + frame(b"z" * size, 0x2)
    assert scanner.feed(stream) == size


def test_a_header_split_anywhere_is_still_read() -> None:
    # Byte by byte: every header is cut at every possible place.
    stream = frame(b"a" * 300) + frame(b"b" * 5, 0x9) + frame(b"c" * 1024) + frame(b"d" * 1025)
    scanner = FrameSizeScanner(limit=1024)
    verdicts = [scanner.feed(stream[i:i + 1]) for i in range(len(stream))]
    assert [v for v in verdicts if v is not None] == [1025]
    # The verdict comes with the header, before any of the oversized payload.
    assert verdicts.index(1025) == len(stream) - 1025 - 1


def test_the_limit_is_per_frame_not_per_message() -> None:
    scanner = FrameSizeScanner(limit=1024)
    fragmented = (frame(b"x" * 1024, 0x1, fin=False) + frame(b"x" * 1024, 0x0, fin=False)
                  + frame(b"x" * 1024, 0x0))
    assert scanner.feed(fragmented) is None
    assert scanner.feed(frame(b"x" * 1025, 0x0)) == 1025  # a continuation counts too


# -- the gateway --------------------------------------------------------------------------------


@pytest.fixture
def small() -> Iterator[GatewayServer]:
    with running_gateway(ws_max_frame_bytes=FRAME, ws_max_message_bytes=MESSAGE) as server:
        game(server)
        yield server


def close_code(ws: websocket.WebSocket) -> int:
    """The code of the close frame the server sends next (data frames before it skipped)."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0]


def disconnect_codes(server: GatewayServer, count: int) -> list[int]:
    events = eventually(lambda: len(server.runtime.events["Disconnect"]) >= count
                        and server.runtime.events["Disconnect"])
    assert events, "$disconnect did not run"
    return [e["requestContext"]["disconnectStatusCode"] for e in events]


def test_a_frame_above_the_quota_closes_with_1009(small: GatewayServer) -> None:
    ws = connect(small.url())
    ws.send('{"action": "echo", "pad": "' + "x" * FRAME + '"}')  # one frame
    assert close_code(ws) == 1009
    assert disconnect_codes(small, 1) == [1009]
    assert small.runtime.events["Echo"] == []  # the message never reached a route


def test_a_long_message_in_frames_within_the_quota_is_delivered(small: GatewayServer) -> None:
    body = '{"action": "echo", "pad": "' + "x" * (3 * FRAME - 40) + '"}'
    assert FRAME < len(body) <= MESSAGE
    ws = connect(small.url())
    try:
        chunks = [body[i:i + FRAME] for i in range(0, len(body), FRAME)]
        ws.send_frame(websocket.ABNF.create_frame(chunks[0], websocket.ABNF.OPCODE_TEXT, 0))
        for chunk in chunks[1:-1]:
            ws.send_frame(websocket.ABNF.create_frame(chunk, websocket.ABNF.OPCODE_CONT, 0))
        ws.send_frame(websocket.ABNF.create_frame(chunks[-1], websocket.ABNF.OPCODE_CONT, 1))
        assert ws.recv() == body
        ws.send('{"action": "echo", "pad": "' + "y" * (FRAME - 29) + '"}')  # exactly 1024
        assert len(ws.recv()) == FRAME
    finally:
        ws.close()


def test_a_frame_sent_with_the_handshake_is_checked_too(small: GatewayServer) -> None:
    """A client that does not wait for the 101 puts its first frame in the same write."""
    key = base64.b64encode(os.urandom(16)).decode()
    path = small.url().split(str(small.port), 1)[1]
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{small.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", small.port), timeout=WAIT) as raw:
        raw.sendall(request + frame(b"x" * (FRAME + 1)))
        received = b""
        while b"\x88" not in received.partition(b"\r\n\r\n")[2]:
            chunk = raw.recv(4096)
            if not chunk:
                break
            received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert rest[:1] == b"\x88" and struct.unpack("!H", rest[2:4])[0] == 1009
    assert disconnect_codes(small, 1) == [1009]


def test_a_binary_frame_closes_with_1003(small: GatewayServer) -> None:
    ws = connect(small.url())
    ws.send_binary(b'{"action": "echo"}')
    assert close_code(ws) == 1003
    assert disconnect_codes(small, 1) == [1003]
    assert small.runtime.events["Echo"] == small.runtime.events["Default"] == []


def test_text_that_is_not_utf8_closes_with_1007(small: GatewayServer) -> None:
    ws = connect(small.url())
    ws.send_frame(websocket.ABNF.create_frame(b'{"action": "\xff\xfe"}',
                                              websocket.ABNF.OPCODE_TEXT))
    assert close_code(ws) == 1007
    assert disconnect_codes(small, 1) == [1007]
    assert small.runtime.events["Default"] == []


def test_other_connections_are_served_meanwhile(small: GatewayServer) -> None:
    bystander = connect(small.url())
    try:
        for send in (lambda ws: ws.send("x" * (FRAME + 1)),
                     lambda ws: ws.send_binary(b"\x00"),
                     lambda ws: ws.send_frame(websocket.ABNF.create_frame(
                         b"\xc3", websocket.ABNF.OPCODE_TEXT))):
            hostile = connect(small.url())
            send(hostile)
            close_code(hostile)
            bystander.send('{"action": "echo"}')
            assert bystander.recv() == '{"action": "echo"}'
    finally:
        bystander.close()
