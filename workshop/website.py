"""The game's web pages, hosted as the original trivia lab hosts its front end: an S3 website.

``web/`` holds the pages (``battle/``, ``trivia/``, shared code) exactly as a browser
loads them: no build step. Publishing them deploys ``website.yaml`` as a stack of its own
(``{game stack}-website``: a bucket configured as a static website, readable by everyone),
then uploads every file of ``web/`` plus a ``config.js`` in each page's folder holding
the game stack's WebSocket URL, so the same files work on both targets:

    window.WORKSHOP_CONFIG = {"webSocketUrl": "...", "stackName": "...", "target": "local"};

On the local cloud the pages are at ``http://127.0.0.1:{port}/_website/{bucket}/battle/``
(see :mod:`workshop.emulator.s3_website`); on AWS at the bucket's website endpoint,
``http://{bucket}.s3-website-{region}.amazonaws.com/battle/``, which anyone who knows the
URL can open. :func:`delete` empties the bucket and deletes the stack.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import aws_target, cloud, stack_reader
from .errors import WorkshopError

__all__ = ["PAGES", "TEMPLATE", "WEB_ROOT", "WebsiteError", "config_js", "delete", "files",
           "outputs", "publish", "room_urls", "site_stack_name"]

ROOT = Path(__file__).resolve().parent.parent
WEB_ROOT = ROOT / "web"
TEMPLATE = ROOT / "website.yaml"
# The pages, by the output that names each one's URL.
PAGES = {"BattlePageURL": "battle", "TriviaPageURL": "trivia"}
# Browsers refuse a module script served with another type; S3 serves what it was given.
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
          ".html": "text/html", ".json": "application/json", ".svg": "image/svg+xml",
          ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain",
          ".woff2": "font/woff2"}
# Every deploy changes config.js: browsers must ask again rather than use a stale copy.
_CACHE_CONTROL = "no-cache"


class WebsiteError(WorkshopError):
    """The pages cannot be published or found; the message says what to do."""


def site_stack_name(stack_name: str) -> str:
    """The website's stack, named after the game stack whose WebSocket URL it carries."""
    return f"{stack_name}-website"


def config_js(*, websocket_url: str, stack_name: str, target: str) -> str:
    """The ``config.js`` each page loads before its own code."""
    config = {"webSocketUrl": websocket_url, "stackName": stack_name, "target": target}
    return ("// Written by `workshop deploy` from the game stack's outputs; every deploy "
            "replaces it.\n"
            f"window.WORKSHOP_CONFIG = {json.dumps(config)};\n")


def _content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
        or "application/octet-stream"


def files(*, websocket_url: str, stack_name: str, target: str,
          root: Path = WEB_ROOT) -> dict[str, tuple[bytes, str]]:
    """Every object to upload: key -> (body, content type); a config.js per page folder."""
    if not root.is_dir():
        raise WebsiteError(f"{root}: the web pages are missing from this checkout")
    found: dict[str, tuple[bytes, str]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or any(part.startswith((".", "__")) for part in relative.parts):
            continue
        found[relative.as_posix()] = (path.read_bytes(), _content_type(path))
    script = config_js(websocket_url=websocket_url, stack_name=stack_name,
                       target=target).encode()
    for key in list(found):
        if key.endswith("index.html"):
            folder = key.removesuffix("index.html")
            found[f"{folder}config.js"] = (script, "text/javascript")
    return found


def _s3_client(target: str, port: int | None) -> Any:
    import boto3

    if target == "aws":
        return boto3.client("s3")
    return cloud.local_client("s3", port=port)


def _target(target: str | None) -> str:
    if target is not None:
        return target
    from .notebook.target import chosen

    return chosen()


def _game_outputs(stack_name: str, target: str, port: int | None) -> dict[str, str]:
    try:
        return stack_reader.outputs(stack_name, target=target, port=port)
    except cloud.CloudError as error:
        raise WebsiteError(f"the game stack {stack_name!r} is not deployed ({error}); "
                           "deploy it first: `python -m workshop deploy`") from None


def _deploy_stack(stack_name: str, target: str, port: int | None) -> dict[str, str]:
    site = site_stack_name(stack_name)
    if target == "aws":
        return aws_target.deploy(TEMPLATE, stack_name=site, build=False)["outputs"]
    return cloud.deploy(TEMPLATE, stack_name=site, port=port)["outputs"]


def _sync(client: Any, bucket: str, objects: Mapping[str, tuple[bytes, str]]) -> None:
    """Make the bucket hold exactly ``objects`` (files removed from web/ go too)."""
    def put(item: tuple[str, tuple[bytes, str]]) -> None:
        key, (body, content_type) = item
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                          CacheControl=_CACHE_CONTROL)

    # A few dozen small files: in parallel (boto3 clients are thread-safe).
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, objects.items()))
    stale = [{"Key": item["Key"]} for page in
             client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
             for item in page.get("Contents", []) if item["Key"] not in objects]
    for start in range(0, len(stale), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": stale[start:start + 1000]})


def publish(*, stack_name: str = "workshop", target: str | None = None,
            port: int | None = None, game_outputs: Mapping[str, str] | None = None,
            root: Path = WEB_ROOT) -> dict[str, str]:
    """Deploy the website stack and upload the pages for the game stack ``stack_name``.

    Returns the website's outputs (``WebsiteURL``, ``BattlePageURL``, ``TriviaPageURL``…).
    """
    target = _target(target)
    game = dict(game_outputs) if game_outputs is not None else \
        _game_outputs(stack_name, target, port)
    websocket_url = game.get("WebSocketURL")
    if not websocket_url:
        raise WebsiteError(f"the stack {stack_name!r} has no WebSocketURL output, so the "
                           "pages would not know where to connect: deploy the game first")
    site = _deploy_stack(stack_name, target, port)
    objects = files(websocket_url=websocket_url, stack_name=stack_name, target=target,
                    root=root)
    _sync(_s3_client(target, port), site["SiteBucketName"], objects)
    return site


def outputs(*, stack_name: str = "workshop", target: str | None = None,
            port: int | None = None) -> dict[str, str] | None:
    """The website's outputs, or None when it has not been published."""
    target = _target(target)
    site = site_stack_name(stack_name)
    if target == "local" and cloud.status(port=port) is None:
        return None   # no local cloud running: nothing is published on it
    try:
        return stack_reader.outputs(site, target=target, port=port)
    except cloud.CloudError:   # not published (or not readable): no pages to show
        return None


def room_urls(site_outputs: Mapping[str, str], *, host: str) -> dict[str, str]:
    """The page URLs for other machines in the room: the loopback address made ``host``."""
    from urllib.parse import urlsplit, urlunsplit

    urls = {}
    for name in ("WebsiteURL", *PAGES):
        if name in site_outputs:
            parts = urlsplit(site_outputs[name])
            netloc = f"{host}:{parts.port}" if parts.port else host
            urls[name] = urlunsplit(parts._replace(netloc=netloc))
    return urls


def delete(*, stack_name: str = "workshop", target: str | None = None,
           port: int | None = None) -> bool:
    """Empty the website's bucket and delete its stack; False if it was not published."""
    target = _target(target)
    site = outputs(stack_name=stack_name, target=target, port=port)
    if site is None:
        return False
    _sync(_s3_client(target, port), site["SiteBucketName"], {})
    if target == "aws":
        aws_target.delete(site_stack_name(stack_name))
    else:
        cloud.delete(stack_name=site_stack_name(stack_name), port=port)
    return True
