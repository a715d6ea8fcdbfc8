"""A game client for notebooks, tests and demos: one WebSocket connection per player.

A background thread reads every message the server sends into the player's inbox, so
a cell can send, look at what arrived, or wait for one particular answer::

    from workshop.player import Player

    with Player(url, user_id="alice") as alice, Player(url, user_id="bob") as bob:
        alice.send("joinroom")
        bob.send("joinroom")
        alice.wait_for("peer_player_id")     # {"action": "peer_player_id", "data": "bob"}
        alice.send("syncscore", score=12)
        bob.wait_for("player_syncscore")     # {"action": "player_syncscore", "data": 12}

It speaks the wire protocol as JSON text frames and assumes nothing else about the game,
so it works the same against the local cloud and against API Gateway on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websocket

__all__ = ["Player", "PlayerClosed", "PlayerTimeout", "close_all", "connect_players"]

log = logging.getLogger(__name__)


class PlayerTimeout(TimeoutError):
    """The awaited message did not come in time; the text says what came instead."""


class PlayerClosed(ConnectionError):
    """A player sent on a connection that is closed; the text says who closed it and why."""


def _with_user_id(url: str, user_id: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("user_id", user_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _decode(frame: str | bytes) -> dict[str, Any]:
    """A received frame as a dict; a frame that is not a JSON object is kept as ``raw``."""
    try:
        message = json.loads(frame)
    except ValueError:
        message = None
    return message if isinstance(message, dict) else {"raw": frame}


def _describe(message: dict[str, Any]) -> str:
    """A short label for a message, for error texts: ``error ("you are not in a room")``."""
    if "action" in message:
        label = str(message["action"])
        return f"{label} ({json.dumps(message['data'])})" if label == "error" else label
    if "message" in message:  # API Gateway's own frames: {"message": "Forbidden", ...}
        return f"gateway message {json.dumps(message['message'])}"
    return f"frame {str(message.get('raw'))[:40]!r}"


class Player:
    """One player connected to the game's WebSocket API.

    ``url`` is the API's WebSocket URL (the ``WebSocketURL`` output). ``user_id`` is sent
    as ``?user_id=``; without it the server names the player ``guest-…``. ``name`` labels
    the player in reprs and errors (default: the user id, or ``"guest"``).
    ``on_message``, if given, is called with each message as it arrives, in the reader
    thread (to update a widget, say). A refused handshake raises
    ``websocket.WebSocketBadStatusException`` with the status code.
    """

    def __init__(self, url: str, *, user_id: str | None = None, name: str | None = None,
                 on_message: Callable[[dict[str, Any]], None] | None = None,
                 connect_timeout: float = 10.0) -> None:
        self.user_id = user_id
        self.on_message = on_message
        self.name = name or user_id or "guest"
        self.url = _with_user_id(url, user_id) if user_id is not None else url
        self._inbox: list[dict[str, Any]] = []
        self._consumed: set[int] = set()  # indexes of messages wait_for() returned
        self.close_reason = ""  # why the connection ended, once it has
        self._arrived = threading.Condition()
        self._ws = websocket.create_connection(self.url, timeout=connect_timeout,
                                               enable_multithread=True)
        self._ws.settimeout(None)  # the reader blocks until a frame or the close
        self._reader = threading.Thread(target=self._read, name=f"player-{self.name}",
                                        daemon=True)
        self._reader.start()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed"
        return f"<Player {self.name} {state}, {len(self._inbox)} messages>"

    @property
    def connected(self) -> bool:
        """Whether the connection is still open (the server has not closed it)."""
        return self._reader.is_alive()

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """Every message received so far, oldest first (a copy)."""
        with self._arrived:
            return list(self._inbox)

    def messages(self, action: str) -> list[dict[str, Any]]:
        """The messages received so far with this ``action``."""
        return [message for message in self.inbox if message.get("action") == action]

    def send(self, action: str, **fields: Any) -> None:
        """Send ``{"action": action, **fields}`` as a JSON text frame."""
        self.send_raw(json.dumps({"action": action, **fields}))

    def send_raw(self, frame: str | bytes) -> None:
        """Send a frame as it is: bytes go as a binary frame (for testing bad input)."""
        if not self.connected:
            raise PlayerClosed(self._closed_text())
        try:
            if isinstance(frame, bytes):
                self._ws.send_binary(frame)
            else:
                self._ws.send(frame)
        except (websocket.WebSocketConnectionClosedException, OSError):
            self._reader.join(timeout=1.0)  # let the reader note why
            raise PlayerClosed(self._closed_text()) from None

    def _closed_text(self) -> str:
        return (f"{self.name}'s connection is closed ({self.close_reason or 'it dropped'}): "
                "connect a new Player. If the local cloud stopped or restarted, run "
                "workshop.up() first; it says what else to run")

    def wait_for(self, action: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The first message with this ``action`` that no earlier call returned.

        Blocks until it arrives; raises PlayerTimeout after ``timeout`` seconds, naming
        what arrived meanwhile.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, message in enumerate(self._inbox):
                    if index not in self._consumed and message.get("action") == action:
                        self._consumed.add(index)
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise PlayerTimeout(self._timeout_text(action, timeout))
                self._arrived.wait(left)

    def _timeout_text(self, action: str, timeout: float) -> str:
        unread = [_describe(m) for i, m in enumerate(self._inbox) if i not in self._consumed]
        closed = "" if self._reader.is_alive() else " (the connection is closed)"
        return (f"{self.name} waited {timeout:g} s for {action!r}{closed}; received "
                f"meanwhile: {', '.join(unread) or 'nothing'}")

    def close(self) -> None:
        """Close the connection (the server's $disconnect route runs) and stop reading."""
        if self._reader.is_alive():
            self.close_reason = self.close_reason or "you closed it"
            try:
                self._ws.send_close()
            except (websocket.WebSocketException, OSError):
                pass  # already closed by the server
            self._reader.join(timeout=5.0)
        self._ws.shutdown()

    def __enter__(self) -> Player:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _read(self) -> None:
        while True:
            try:
                opcode, data = self._ws.recv_data()
            except (websocket.WebSocketException, OSError) as error:
                self.close_reason = self.close_reason or f"the socket dropped: {error}"
                break  # the socket closed under us
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.close_reason = self.close_reason or _close_reason(data)
                break
            if opcode == websocket.ABNF.OPCODE_TEXT and isinstance(data, bytes):
                data = data.decode("utf-8", errors="replace")
            message = _decode(data)
            with self._arrived:
                self._inbox.append(message)
                self._arrived.notify_all()
            if self.on_message is not None:
                self._notify(message)
        with self._arrived:
            self._arrived.notify_all()  # waiters learn that nothing more will come


    def _notify(self, message: dict[str, Any]) -> None:
        try:
            self.on_message(message)
        except Exception:  # a broken callback must not stop the reader
            log.exception("%s: on_message failed", self.name)


def _close_reason(data: bytes) -> str:
    """``the server closed it: 1001 Going away`` from a close frame's payload."""
    if len(data) < 2:
        return "the server closed it without a status code"
    code = int.from_bytes(data[:2], "big")
    reason = data[2:].decode("utf-8", errors="replace")
    return f"the server closed it: {code} {reason}".rstrip()


def connect_players(url: str, n: int, *, prefix: str = "bot",
                    max_workers: int = 16) -> list[Player]:
    """``n`` players ``{prefix}-000``, ``{prefix}-001``… connected concurrently.

    If any of them cannot connect, the others are closed and the error is raised.
    """
    def connect(index: int) -> Player:
        return Player(url, user_id=f"{prefix}-{index:03d}")

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(connect, index) for index in range(n)]
    players, errors = [], []
    for future in futures:
        try:
            players.append(future.result())
        except Exception as error:  # noqa: BLE001 - re-raised below, after cleanup
            errors.append(error)
    if errors:
        close_all(players)
        raise errors[0]
    return players


def close_all(players: Iterable[Player]) -> None:
    """Close every player (ignoring ones already closed)."""
    for player in players:
        player.close()
