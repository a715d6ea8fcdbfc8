"""Markdown code blocks for the YAML, Python and Mermaid a lab shows."""

from __future__ import annotations

from workshop.notebook import show


def test_code_is_fenced_with_its_language() -> None:
    assert show.yaml("Resources:\n  A: 1\n").data == "```yaml\nResources:\n  A: 1\n```"
    assert show.python("x = 1").data == "```python\nx = 1\n```"
    assert show.mermaid("flowchart LR").data == "```mermaid\nflowchart LR\n```"


def test_a_fence_inside_the_text_gets_a_longer_fence() -> None:
    text = 'doc = """\n```yaml\nA: 1\n```\n"""'
    rendered = show.python(text).data
    assert rendered.startswith("````python\n") and rendered.endswith("\n````")
    assert text in rendered


def test_source_names_the_file_and_shows_it_whole(tmp_path) -> None:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "app.py").write_text("def handler(event, context):\n    pass\n")
    rendered = show.source("solutions/app.py", root=tmp_path).data
    assert rendered == ("`solutions/app.py`\n\n```python\ndef handler(event, context):\n"
                        "    pass\n```")


def test_deployment_lists_changes_and_outputs() -> None:
    report = {"stack_name": "workshop", "created": ["Table"], "updated": ["Stage"],
              "deleted": [], "unchanged": ["Api"], "warnings": [], "seconds": 0.5,
              "outputs": {"WebSocketURL": "ws://127.0.0.1:1/abc/dev"}}
    text = show.deployment(report).data
    assert text.startswith("**Stack `workshop` deployed in 0.50 s** — 1 created, 1 updated, "
                           "0 deleted, 1 unchanged")
    assert "| `Table` | created |" in text and "| `Stage` | updated |" in text
    assert "| `WebSocketURL` | `ws://127.0.0.1:1/abc/dev` |" in text
