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
* :mod:`.message_log` — the panels' live log of messages sent and received;
* :mod:`.trivia_panel` — an ipywidgets trivia game for one player, drivable from code;
* :mod:`.trivia_bots` — the trivia requests, and bots that answer with a chosen accuracy;
* :mod:`.state_machines` — Step Functions executions: start, wait, history, path taken;
* :mod:`.faults`     — injected Lambda errors, to watch a Retry and a Catch work;
* :mod:`.asl_mermaid` — a state machine's ASL drawn as a Mermaid flowchart;
* :mod:`.lottery`    — the employee pool, draws, the SNS inbox and the fairness experiment;
* :mod:`.cleanup`    — deleting the stacks and the log groups they leave behind.
* :mod:`.leftovers`  — everything left in the account or the local cloud, found and
  removed with plain boto3 (notebook 99).

The lab's teaching content (handler code, template YAML) is not here: it lives in
``solutions/`` and ``template.yaml`` and the notebooks show it from there. Import the
modules you need (``from workshop.notebook import checks``); importing this package
itself loads nothing heavy.
"""

from __future__ import annotations

__all__ = ["asl_mermaid", "battle_panel", "checks", "cleanup", "crowd", "diagrams", "events",
           "faults", "inbox", "leftovers", "lottery", "matchmaking_report", "message_log",
           "progress", "show", "state_machines", "tables", "target", "trivia_bots",
           "trivia_panel"]
