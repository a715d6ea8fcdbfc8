"""``python -m workshop`` / ``workshop``: run the local cloud and deploy to it.

Every command exits 0 on success and otherwise prints one line saying why, then exits
non-zero; ``--json`` variants print machine-readable output for scripts and tests.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import aws_target, cloud, lab
from .emulator.settings import SettingsError
from .errors import WorkshopError

__all__ = ["main"]


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def cmd_up(args: argparse.Namespace) -> int:
    if args.foreground:
        from .emulator import server

        argv = ["--port", str(cloud.settings(port=args.port).port)]
        if args.time_scale is not None:
            argv += ["--time-scale", str(args.time_scale)]
        if args.host is not None:
            argv += ["--host", args.host]
        if args.iam is not None:
            argv += ["--iam", args.iam]
        return server.main(argv)
    started = time.perf_counter()
    iam = None if args.iam is None else args.iam == "on"
    state = cloud.up(port=args.port, time_scale=args.time_scale, host=args.host, iam=iam)
    took = time.perf_counter() - started
    note = "" if state["uptime_seconds"] > took + 1 else f" (ready in {took:.2f} s)"
    print(f"local cloud running at {state['endpoint']}, pid {state['pid']}, "
          f"time scale {state['time_scale']:g}{note}")
    print(_exposure(state))
    print(_iam(state))
    if args.iam is not None and state.get("iam") != args.iam:
        print(f"note: it was already running with IAM checks {state.get('iam')}; run "
              "`python -m workshop down` first to change --iam")
    if args.time_scale is not None and state["time_scale"] != args.time_scale:
        print(f"note: it was already running with time scale {state['time_scale']:g}; "
              "run `python -m workshop down` first to change it")
    exposed = (state.get("security") or {}).get("exposed")
    if args.host is not None and exposed != args.host:
        where = f"exposed on {exposed}" if exposed else "on loopback only"
        print(f"note: it was already running {where}; run `python -m workshop down` first "
              "to change --host")
    if exposed:
        _print_room_pages(state, stack_name="workshop", port=args.port)
    return 0


def _print_room_pages(state: dict[str, Any] | None, *, stack_name: str,
                      port: int | None) -> None:
    """Class play: the pages' addresses as the other machines in the room reach them."""
    from . import website

    exposed = ((state or {}).get("security") or {}).get("exposed")
    if not exposed:
        return
    site = website.outputs(stack_name=stack_name, target="local", port=port)
    if not site:
        print(f"the game's pages are not published yet: `python -m workshop deploy` does it, "
              f"then `python -m workshop outputs` prints their addresses on {exposed}")
        return
    print(f"for the room (class play on {exposed}):")
    for name, url in website.room_urls(site, host=exposed).items():
        print(f"  {name:13}  {url}")


def _iam(state: dict[str, Any]) -> str:
    """Whether IAM is enforced (``up`` and ``status`` print it)."""
    if state.get("iam") == "off":
        return ("IAM: off (--iam off): functions and state machines may call anything, "
                "whatever their roles allow")
    return ("IAM: on: functions and state machines may do only what their roles allow, "
            "as on AWS (`up --iam off` lifts it)")


def _exposure(state: dict[str, Any]) -> str:
    """What the running cloud serves to whom (``up`` and ``status`` print it)."""
    security = state.get("security") or {}
    line = ("security: AWS APIs need SigV4 signatures with this installation's keys "
            "(`python -m workshop env`), the admin API its token; both answer on loopback "
            "only and to no web page (no CORS)")
    if security.get("exposed"):
        line += (f"\nclass play: http://{security['exposed']}:{state.get('port')} serves the "
                 "game only (WebSocket connections and websites)")
    return line


def cmd_down(args: argparse.Namespace) -> int:
    stopped = cloud.down(port=args.port)
    print("local cloud stopped" if stopped else "no local cloud was running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = cloud.status(port=args.port)
    if args.json:
        _print_json(state or {"status": "stopped", "port": cloud.settings(port=args.port).port})
        return 0 if state else 1
    if not state:
        print(f"no local cloud on port {cloud.settings(port=args.port).port}; "
              "start it with `python -m workshop up`")
        return 1
    print(f"running at {state['endpoint']} (pid {state['pid']}, up {state['uptime_seconds']} s, "
          f"time scale {state['time_scale']:g})")
    print(f"stacks: {', '.join(state['stacks']) or '-'}; functions: {len(state['functions'])}; "
          f"open WebSocket connections: {state['connections']}")
    if state.get("faults"):
        print(f"faults injected: {state['faults']} (see `python -m workshop fault list`)")
    print(_exposure(state))
    print(_iam(state))
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    template = Path(args.template)
    if not template.is_file():
        raise cloud.CloudError(f"{template}: no such template file")
    parameters = dict(_parse_parameter(p) for p in args.parameter)
    if args.lab is not None:
        if args.lab < 2:
            print(f"lab {args.lab} starts from nothing: there is nothing to catch up on")
            return 0
        # The reference solution of every lab before this one.
        template = lab.write(args.lab - 1, stack_name=args.stack_name, template=template)
    if args.target == "aws":
        aws_target.use_account(region=args.region, profile=args.profile)
        result = aws_target.deploy(template, stack_name=args.stack_name, parameters=parameters)
        outputs = result["outputs"]
        _print_changes(result)
        print(f"stack {result['account_stack_name']} deployed in {result['region']} in "
              f"{result['seconds']:.1f} s ({_counts(result)})"
              + ("" if result["changed"] else "; no changes: it was up to date"))
        _print_outputs({**outputs, **_publish_pages(args, outputs)})
        return 0
    report = cloud.deploy(template, stack_name=args.stack_name, parameters=parameters,
                          port=args.port)
    pages = _publish_pages(args, report["outputs"])
    if args.json:
        _print_json({**report, "website": pages})
        return 0
    _print_changes(report)
    print(f"stack {report['stack_name']} deployed in {report['seconds']:.2f} s "
          f"({_counts(report)})")
    _print_outputs({**report["outputs"], **pages})
    if pages:
        _print_room_pages(cloud.status(port=args.port), stack_name=args.stack_name,
                          port=args.port)
    return 0


def _print_changes(report: dict[str, Any]) -> None:
    for verb in ("created", "updated", "deleted"):
        for logical_id in report[verb]:
            print(f"  {verb:8} {logical_id}")
    for warning in report["warnings"]:
        print(f"  warning  {warning}")


def _counts(report: dict[str, Any]) -> str:
    return ", ".join(f"{len(report[verb])} {verb}"
                     for verb in ("created", "updated", "deleted", "unchanged"))


def _publish_pages(args: argparse.Namespace, outputs: dict[str, str]) -> dict[str, str]:
    """After a game stack (one with a WebSocketURL), its web pages: the website stack."""
    if args.no_website or "WebSocketURL" not in outputs:
        return {}
    from . import website

    return website.publish(stack_name=args.stack_name, target=args.target, port=args.port,
                           game_outputs=outputs)


def _parse_parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise cloud.CloudError(f"--parameter {text!r}: expected KEY=VALUE")
    return key, value


def _print_outputs(outputs: dict[str, str]) -> None:
    if outputs:
        print("outputs:")
        width = max(map(len, outputs))
        for key, value in outputs.items():
            print(f"  {key:{width}}  {value}")


def cmd_outputs(args: argparse.Namespace) -> int:
    from . import website

    outputs = cloud.outputs(stack_name=args.stack_name, port=args.port)
    outputs.update(website.outputs(stack_name=args.stack_name, target="local",
                                   port=args.port) or {})
    if args.json:
        _print_json(outputs)
    else:
        _print_outputs(outputs)
        _print_room_pages(cloud.status(port=args.port), stack_name=args.stack_name,
                          port=args.port)
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    import boto3

    cloud.use_local_cloud(port=args.port)
    name = _physical_function_name(args.function, args.stack_name, args.port)
    logs = boto3.client("logs")
    group = f"/aws/lambda/{name}"
    start = int((time.time() - args.since * 60) * 1000)
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, startTime=start)
        events = [event for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        raise cloud.CloudError(f"{group}: no logs yet (has {name} been invoked?)") from None
    for event in sorted(events, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0))):
        print(event["message"].rstrip("\n"))
    return 0


def _physical_function_name(function: str, stack_name: str, port: int | None) -> str:
    """Accept the template's logical id (MainServerFunction) or the deployed name."""
    try:
        resources = cloud.stack(stack_name=stack_name, port=port)["resources"]
    except cloud.CloudError:
        return function
    for resource in resources:
        if resource["logical_id"] == function and resource["type"] == "AWS::Lambda::Function":
            return resource["physical_id"]
    return function


def cmd_delete(args: argparse.Namespace) -> int:
    from . import website

    if args.target == "aws":
        aws_target.use_account(region=args.region, profile=args.profile)
    # The pages first: their bucket must be emptied before its stack can go.
    pages = website.delete(stack_name=args.stack_name, target=args.target, port=args.port)
    also = (f"website {website.site_stack_name(args.stack_name)} deleted too, with its pages"
            if pages else None)
    if args.target == "aws":
        if aws_target.delete(args.stack_name):
            print(f"stack {aws_target.account_stack_name(args.stack_name)} deleted")
        if also:
            print(also)
        return 0
    report = cloud.delete(stack_name=args.stack_name, port=args.port)
    print(f"stack {args.stack_name} deleted: {len(report['deleted'])} resources")
    if also:
        print(also)
    return 0


def cmd_room(args: argparse.Namespace) -> int:
    from . import room, website

    exposed = None
    if args.target == "aws":
        aws_target.use_account(region=args.region, profile=args.profile)
        game_outputs = aws_target.outputs(args.stack_name)
    else:
        state = cloud.status(port=args.port)
        if state is None:
            raise cloud.CloudError("no local cloud is running: `python -m workshop up --host "
                                   "<this machine's address>`, then deploy the game")
        exposed = (state.get("security") or {}).get("exposed")
        if not exposed:
            print("note: the local cloud answers on loopback only, so only this machine can "
                  "join; for the room run `python -m workshop down`, `python -m workshop up "
                  "--host <this machine's address>` and deploy again")
        game_outputs = cloud.outputs(stack_name=args.stack_name, port=args.port)
    site = website.outputs(stack_name=args.stack_name, target=args.target, port=args.port)
    game = room.host_game(room.room_addresses(game_outputs, site, exposed=exposed),
                          host_name=args.host_name)
    try:
        print(room.join_instructions(game), flush=True)
        _gather_players(game, start_when=args.start_when)
        game.start(questions=args.questions, wait_seconds=args.wait)
        print(f"started with {len(game.players())} players: {args.questions} questions, "
              f"{args.wait} s each", flush=True)
        shown = 0
        while not game.over:
            for question in game.asked()[shown:]:
                shown += 1
                print(f"  question {shown}: {question.get('question')}", flush=True)
            time.sleep(0.1)
        board = game.wait_until_over(timeout=args.questions * (args.wait + 30) + 60)
        print("leaderboard:")
        print(room.leaderboard_text(board))
    finally:
        game.close()
    return 0


def _gather_players(game: Any, *, start_when: int | None) -> None:
    """Print players as they join; return on Enter (or once ``start_when`` have joined)."""
    import threading

    pressed = threading.Event()
    if start_when is None:
        print("press Enter to start the game once everyone has joined", flush=True)
        threading.Thread(target=lambda: (sys.stdin.readline(), pressed.set()),
                         daemon=True).start()
    seen: set[str] = set()
    while True:
        for name in game.players():
            if name not in seen:
                seen.add(name)
                print(f"  joined: {name}", flush=True)
        if seen and (pressed.is_set() or (start_when is not None and len(seen) >= start_when)):
            return
        time.sleep(0.2)


def cmd_reset(args: argparse.Namespace) -> int:
    cloud.reset(port=args.port)
    print("local cloud reset: every stack, function, table, queue, topic and API is gone")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    # A session token or profile left from real AWS would be sent with these keys: refused.
    print("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE")
    for key, value in cloud.environment(cloud.settings(port=args.port)).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.main(port=args.port)


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    failures = 0
    for check in run_checks(port=args.port):
        mark = "ok  " if check.ok else "FAIL"
        print(f"[{mark}] {check.name}: {check.detail}")
        failures += not check.ok
    return 1 if failures else 0


def cmd_exercises(args: argparse.Namespace) -> int:
    from . import exercises

    rows = exercises.status(workspace=exercises.Workspace(args.workspace))
    if args.json:
        _print_json(rows)
        return 0
    width = max(len(row["title"]) for row in rows)
    for row in rows:
        print(f"{row['id']:5} {row['title']:{width}}  {row['status']:12} {', '.join(row['files'])}")
    print(f"workspace: {exercises.Workspace(args.workspace).root}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from . import exercises

    if args.target == "local":
        cloud.use_local_cloud(port=args.port)
    results = exercises.check(args.name, workspace=exercises.Workspace(args.workspace),
                              target=args.target, stack_name=args.stack_name)
    for result in results:
        print(result)
    failed = sum(not result.ok for result in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_solve(args: argparse.Namespace, *, solved: bool = True) -> int:
    from . import exercises

    workspace = exercises.Workspace(args.workspace)
    for item in exercises.select(args.name):
        workspace.prepare(exercises.lab_files(item.lab))
        backups = workspace.solve(item) if solved else workspace.reset(item)
        what = "the reference solution" if solved else "its starter"
        kept = f"; your version is kept in {', '.join(map(str, backups))}" if backups else ""
        print(f"{item.id} {item.title}: now {what}{kept}")
    return 0


def cmd_reset_exercise(args: argparse.Namespace) -> int:
    return cmd_solve(args, solved=False)


def cmd_fault(args: argparse.Namespace) -> int:
    from . import faults

    if args.fault_command == "add":
        common = {"count": args.count, "duration": args.duration,
                  "percentage": args.percentage, "stack_name": args.stack_name,
                  "port": args.port}
        if args.delay is not None:
            fault = faults.add_delay(args.function, args.delay, **common)
        else:
            fault = faults.add_error(args.function, error=args.error, **common)
        print(f"injected {fault}")
        return 0
    if args.fault_command == "list":
        rows = faults.current(port=args.port)
        if args.json:
            _print_json(rows)
        for row in [] if args.json else rows:
            what = row["error"] or f"+{row['delay_ms']} ms"
            left = [f"{row['remaining']} left"] if row["remaining"] is not None else []
            left += [f"{row['seconds_left']:g} s left"] if row["seconds_left"] is not None else []
            print(f"{row['id']:4} {row['function']:40} {what:32} {row['percentage']:3}%  "
                  f"injected {row['injected']}; {', '.join(left) or 'until cleared'}")
        if not rows and not args.json:
            print("no faults injected")
        return 0
    cleared = faults.clear(args.function, fault_id=args.id, stack_name=args.stack_name,
                           port=args.port)
    print(f"cleared {len(cleared)} fault{'s' if len(cleared) != 1 else ''}"
          + (f": {', '.join(row['id'] for row in cleared)}" if cleared else ""))
    return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, help="the local cloud's port (default 4580, "
                        "or WORKSHOP_PORT)")
    stack = argparse.ArgumentParser(add_help=False)
    stack.add_argument("--stack-name", default="workshop")
    account = argparse.ArgumentParser(add_help=False)   # --target aws only
    account.add_argument("--region", help="with --target aws: the AWS region (default "
                         "AWS_REGION, AWS_DEFAULT_REGION or your AWS config)")
    account.add_argument("--profile", help="with --target aws: the AWS profile (default "
                         "AWS_PROFILE)")
    parser = argparse.ArgumentParser(prog="workshop", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str,
            *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_, description=help_,
                                 parents=[common, *parents])
        command.set_defaults(handler=handler)
        return command

    up = add("up", cmd_up, "start the local cloud in the background (idempotent)")
    up.add_argument("--time-scale", type=float,
                    help="multiply Step Functions waits, retries and schedules (e.g. 0.01)")
    up.add_argument("--foreground", action="store_true", help="run in this terminal")
    up.add_argument("--host", metavar="ADDR", help="class play: also serve the game (WebSocket "
                    "connections and websites, never the AWS or admin APIs) on this address")
    up.add_argument("--iam", choices=["on", "off"],
                    help="functions and state machines may do only what their IAM roles "
                    "allow (default on, as on AWS; off for an app not ready for it)")
    add("down", cmd_down, "stop the local cloud and its Lambda workers")
    add("status", cmd_status, "is the local cloud running, and what is deployed").add_argument(
        "--json", action="store_true")
    deploy = add("deploy", cmd_deploy, "deploy a SAM template", stack, account)
    deploy.add_argument("--template", default="template.yaml")
    deploy.add_argument("--target", choices=["local", "aws"], default="local")
    deploy.add_argument("--lab", type=int, metavar="N",
                        help="catch up: deploy the reference solution of every lab before N")
    deploy.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    deploy.add_argument("--no-website", action="store_true",
                        help="do not publish the game's web pages (the website stack)")
    deploy.add_argument("--json", action="store_true")
    add("outputs", cmd_outputs, "print the stack's outputs", stack).add_argument(
        "--json", action="store_true")
    logs = add("logs", cmd_logs, "print a function's CloudWatch logs", stack)
    logs.add_argument("function", help="logical id in the template, or function name")
    logs.add_argument("--since", type=float, default=60.0, metavar="MINUTES")
    delete = add("delete", cmd_delete, "delete a stack and every resource it made", stack,
                 account)
    delete.add_argument("--target", choices=["local", "aws"], default="local")
    room = add("room", cmd_room, "class play: host one trivia game for the whole room, "
               "with a leaderboard at the end", stack, account)
    room.add_argument("--target", choices=["local", "aws"], default="local")
    room.add_argument("--questions", type=int, default=5, metavar="N")
    room.add_argument("--wait", type=int, default=20, metavar="SECONDS",
                      help="to answer each question")
    room.add_argument("--host-name", default="Host", help="the host's name in the game")
    room.add_argument("--start-when", type=int, metavar="N",
                      help="start once N players have joined (default: when you press Enter)")
    add("reset", cmd_reset, "delete everything deployed and stored; keep running")
    add("env", cmd_env, 'print shell exports: eval "$(python -m workshop env)"')
    add("demo", cmd_demo, "bots play the finished game on the local cloud, with a transcript")
    add("doctor", cmd_doctor, "check this machine can run the workshop")
    workspace = argparse.ArgumentParser(add_help=False)
    workspace.add_argument("--workspace", metavar="DIR",
                           help="the learner's files (default WORKSHOP_WORKSPACE, or mygame/)")
    add("exercises", cmd_exercises, "list every exercise and its status", workspace
        ).add_argument("--json", action="store_true")
    check = add("check", cmd_check, "deploy your work for a lab and run its checks",
                workspace, stack)
    check.add_argument("name", metavar="LAB_OR_EXERCISE", help="3 (a whole lab) or 3.2")
    check.add_argument("--target", choices=["local", "aws"], default="local")
    add("solve", cmd_solve, "put the reference solution in (your version is backed up)",
        workspace).add_argument("name", metavar="EXERCISE", help="3.2, or 3 for a whole lab")
    add("reset-exercise", cmd_reset_exercise,
        "put an exercise back to its starter (your version is backed up)",
        workspace).add_argument("name", metavar="EXERCISE", help="3.2, or 3 for a whole lab")
    _fault_parser(sub, common)
    return parser


def _fault_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``fault add|list|clear``: --port on each subcommand, where argparse keeps it."""
    fault = sub.add_parser("fault", help="inject Lambda errors and delays (as AWS FIS does)",
                           description="Inject Lambda invocation errors and delays into the "
                           "local cloud, as AWS Fault Injection Service's Lambda actions do.")
    fault.set_defaults(handler=cmd_fault)
    actions = fault.add_subparsers(dest="fault_command", required=True, metavar="ACTION")
    stack = argparse.ArgumentParser(add_help=False)
    stack.add_argument("--stack-name", help="the stack whose logical id FUNCTION is "
                       "(default: whichever deployed stack has it)")
    add = actions.add_parser(
        "add", parents=[common, stack], help="inject a fault",
        description="The next invocations of FUNCTION fail (--error) or start late "
        "(--delay). Examples: `fault add TriviaQuestionFunction --error --count 2`; "
        "`fault add BattleFunction --delay 3000`.")
    add.add_argument("function", metavar="FUNCTION",
                     help="logical id in the template, or function name")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--error", nargs="?", const="Lambda.ServiceException", metavar="NAME",
                      help="fail with NAME: Lambda.ServiceException (the default) or "
                      "Lambda.TooManyRequestsException make Invoke fail; any other name is "
                      "a function error of that type")
    kind.add_argument("--delay", type=int, metavar="MS", help="start the handler MS "
                      "milliseconds late (counts against its Timeout)")
    add.add_argument("--count", type=int, metavar="N", help="only the next N invocations")
    add.add_argument("--duration", metavar="SECONDS",
                     help="for this long: seconds, or ISO 8601 such as PT5M")
    add.add_argument("--percentage", type=int, metavar="P",
                     help="affect P%% of invocations (1-100, default 100)")
    actions.add_parser("list", parents=[common], help="list the faults in force").add_argument(
        "--json", action="store_true")
    clear = actions.add_parser("clear", parents=[common, stack],
                               help="remove faults: of FUNCTION, --id, or all")
    clear.add_argument("function", metavar="FUNCTION", nargs="?")
    clear.add_argument("--id", metavar="ID", help="the fault's id, as `fault list` shows it")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except (WorkshopError, SettingsError) as error:
        print(f"workshop {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
