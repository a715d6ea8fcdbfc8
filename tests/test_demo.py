"""`python -m workshop demo` plays a full match over the exact wire protocol."""

from __future__ import annotations

import io
import subprocess
import sys

from workshop import demo, lab


def test_demo_battle_transcript_and_settlement(cloud: dict) -> None:
    url = lab.deploy(4, stack_name=demo.DEMO_STACK)["outputs"]["WebSocketURL"]
    transcript = io.StringIO()
    assert demo.play_battle(url, out=transcript) == {"alice": "WIN", "bob": "LOSE"}
    lines = transcript.getvalue().splitlines()
    assert '   alice → {"action": "joinroom"}' in lines
    assert '     bob ← {"action": "peer_player_id", "data": "alice"}' in lines
    assert '   alice ← {"action": "attacked", "data": "FREEZE"}' in lines
    assert lines.index("settlement") < len(lines) - 2


def test_demo_command(cloud: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "workshop", "demo"], capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "result: {'alice': 'WIN', 'bob': 'LOSE'}" in result.stdout
