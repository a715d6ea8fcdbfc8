"""Plumbing for the workshop's notebooks: one module, one job.

The notebooks teach AWS; this package keeps everything else out of their way, so a
lab cell is one call into it:

* :mod:`.target`     — which cloud the notebooks use (local or your AWS account), started;
* :mod:`.show`       — YAML, Python and Mermaid rendered as Markdown blocks;
* :mod:`.checks`     — the one-line "Check your work" verdicts;
* :mod:`.tables`     — DynamoDB items and CloudWatch log events as pandas DataFrames;
* :mod:`.diagrams`   — the architecture as Mermaid, generated from ``template.yaml``;
* :mod:`.progress`   — a progress bar for anything that takes more than a moment;
* :mod:`.inbox`      — what players received, message by message;
* :mod:`.events`     — API Gateway events, to invoke a function by hand;
* :mod:`.crowd`      — many bot players joining rooms at once;
* :mod:`.matchmaking_report` — what the players were told, summarised room by room;
* :mod:`.battle_panel` — an ipywidgets battle between two players, drivable from code;
* :mod:`.state_machines` — Step Functions executions: start, wait, history, path taken;
* :mod:`.asl_mermaid` — a state machine's ASL drawn as a Mermaid flowchart.

The lab's teaching content (handler code, template YAML) is not here: it lives in
``solutions/`` and ``template.yaml`` and the notebooks show it from there. Import the
modules you need (``from workshop.notebook import checks``); importing this package
itself loads nothing heavy.
"""

from __future__ import annotations

__all__ = ["asl_mermaid", "battle_panel", "checks", "crowd", "diagrams", "events", "inbox",
           "matchmaking_report", "progress", "show", "state_machines", "tables", "target"]
