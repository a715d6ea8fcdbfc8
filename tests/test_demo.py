"""`python -m workshop demo` plays a full match and a trivia game over the exact wire protocol."""

from __future__ import annotations

import io
import re
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


def test_demo_trivia_transcript_and_scores(cloud: dict) -> None:
    url = lab.deploy(5, stack_name=demo.DEMO_STACK)["outputs"]["WebSocketURL"]
    transcript = io.StringIO()
    # 100 scaled seconds to answer: one real second at the tests' time scale.
    scores = demo.play_trivia(url, out=transcript, waitseconds=100, questioncount=3)
    lines = transcript.getvalue().splitlines()
    assert '     Ada → {"action": "newgame", "name": "Ada"}' in lines
    assert any(re.fullmatch(r'   Grace → \{"action": "joingame", "gameid": "[0-9a-f]{32}", '
                            r'"name": "Grace"\}', line) for line in lines)
    assert [line for line in lines if line.startswith("question ")] == [
        "question 1", "question 2", "question 3"]
    assert sum(line.endswith(" ✓") for line in lines if line.startswith("     Ada →")) == 3
    assert sum(line.endswith(" ✗") for line in lines if line.startswith("   Linus →")) == 3
    assert lines[-1] == '     Ada ← {"action": "gameover"}'
    assert list(scores)[0] == "Ada" and scores["Ada"] >= 3 and scores["Linus"] == 0
    assert lines[-2] == "scores: " + ", ".join(f"{name} {score}" for name, score in scores.items())


def test_demo_command(cloud: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "workshop", "demo"], capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "result: {'alice': 'WIN', 'bob': 'LOSE'}" in result.stdout
    assert re.search(r"result: \{'Ada': \d+, .*'Linus': 0\}", result.stdout), result.stdout
