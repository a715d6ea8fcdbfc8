"""What players received, as a DataFrame: the wire protocol, message by message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..player import Player

__all__ = ["COLUMNS", "frame"]

COLUMNS = ["player", "n", "action", "data", "other fields"]


def _row(player: Player, n: int, message: dict[str, Any]) -> dict[str, Any]:
    others = {key: value for key, value in message.items() if key not in ("action", "data")}
    return {"player": player.name, "n": n, "action": message.get("action", ""),
            "data": message.get("data", ""), "other fields": others or ""}


def frame(*players: Player, actions: Iterable[str] | None = None) -> pd.DataFrame:
    """Every message each player received, in arrival order (``n`` counts from 1).

    ``actions`` keeps only those actions. A frame that is not the game's JSON (API
    Gateway's own ``{"message": "Forbidden", …}``, say) shows up with its fields in
    ``other fields``.
    """
    wanted = None if actions is None else set(actions)
    rows = [_row(player, n, message)
            for player in players
            for n, message in enumerate(player.inbox, start=1)
            if wanted is None or message.get("action") in wanted]
    return pd.DataFrame(rows, columns=COLUMNS)
