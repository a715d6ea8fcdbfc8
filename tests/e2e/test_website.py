"""The game's website, deployed and served by the local cloud as a learner gets it.

``workshop.website.publish`` deploys website.yaml (a bucket website, public-read by policy)
and uploads web/ with a config.js per page; the local cloud serves it at
``/_website/{bucket}/`` on its one port (and at ``{bucket}.s3-website-{region}.localhost``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from workshop import cloud as local_cloud
from workshop import website

FAKE_GAME = {"WebSocketURL": "ws://127.0.0.1:9/abc123/dev"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None
          ) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def site(cloud: dict) -> Iterator[dict[str, str]]:
    outputs = website.publish(stack_name="pages", target="local", game_outputs=FAKE_GAME)
    yield outputs
    website.delete(stack_name="pages", target="local")


def test_publishing_gives_page_urls_on_the_local_cloud(cloud: dict, site: dict) -> None:
    bucket = site["SiteBucketName"]
    assert bucket.startswith("pages-website-sitebucket-")
    assert site["WebsiteURL"] == f"{cloud['endpoint']}/_website/{bucket}"
    assert site["BattlePageURL"] == site["WebsiteURL"] + "/battle/"
    assert site["TriviaPageURL"] == site["WebsiteURL"] + "/trivia/"


def test_each_page_is_served_with_its_config(site: dict) -> None:
    for page in ("BattlePageURL", "TriviaPageURL"):
        status, headers, body = fetch(site[page])
        assert (status, headers["Content-Type"]) == (200, "text/html")
        assert b'<script src="./config.js"></script>' in body
        status, headers, body = fetch(site[page] + "config.js")
        assert (status, headers["Content-Type"]) == (200, "text/javascript")
        config = json.loads(body.decode().split("window.WORKSHOP_CONFIG = ", 1)[1].rstrip(";\n"))
        assert config == {"webSocketUrl": FAKE_GAME["WebSocketURL"], "stackName": "pages",
                          "target": "local"}


def test_every_file_of_web_is_there_with_its_type(site: dict) -> None:
    root = Path(website.WEB_ROOT)
    for path in sorted(root.rglob("*.js")) + sorted(root.rglob("*.css")):
        key = path.relative_to(root).as_posix()
        status, headers, body = fetch(f"{site['WebsiteURL']}/{key}")
        assert (status, body) == (200, path.read_bytes()), key
        expected = "text/javascript" if path.suffix == ".js" else "text/css"
        assert headers["Content-Type"] == expected
        assert headers["Cache-Control"] == "no-cache"


def test_the_site_root_redirects_to_its_slash_then_shows_the_start_page(site: dict) -> None:
    status, headers, _ = fetch(site["WebsiteURL"])
    assert (status, headers["Location"]) == (302, f"{site['SiteBucketName']}/")
    status, _, body = fetch(site["WebsiteURL"] + "/")
    assert status == 200 and b'href="battle/"' in body


def test_a_missing_page_is_the_error_document_with_404(site: dict) -> None:
    status, headers, body = fetch(site["WebsiteURL"] + "/nothing/here.html")
    assert status == 404
    assert body == (Path(website.WEB_ROOT) / "error.html").read_bytes()


def test_the_website_answers_only_get_and_head(site: dict) -> None:
    status, _, body = fetch(site["BattlePageURL"], method="POST")
    assert status == 405 and b"<li>Code: MethodNotAllowed</li>" in body
    status, headers, body = fetch(site["BattlePageURL"], method="HEAD")
    assert (status, body) == (200, b"") and int(headers["Content-Length"]) > 0


def test_the_virtual_host_form_serves_the_same_site(cloud: dict, site: dict) -> None:
    host = f"{site['SiteBucketName']}.s3-website-us-east-1.localhost:{cloud['port']}"
    status, headers, body = fetch(f"{cloud['endpoint']}/battle/main.js", headers={"Host": host})
    assert status == 200 and headers["Content-Type"] == "text/javascript"
    status, headers, _ = fetch(f"{cloud['endpoint']}/battle", headers={"Host": host})
    assert (status, headers["Location"]) == (302, "/battle/")


def test_a_page_removed_from_web_is_removed_from_the_bucket(cloud: dict, tmp_path: Path
                                                            ) -> None:
    (tmp_path / "game").mkdir()
    (tmp_path / "game" / "index.html").write_text("<p>one</p>")
    (tmp_path / "game" / "old.js").write_text("export {};")
    first = website.publish(stack_name="resync", target="local", game_outputs=FAKE_GAME,
                            root=tmp_path)
    (tmp_path / "game" / "old.js").unlink()
    website.publish(stack_name="resync", target="local", game_outputs=FAKE_GAME,
                    root=tmp_path)
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(
        Bucket=first["SiteBucketName"])["Contents"]}
    assert keys == {"game/index.html", "game/config.js"}
    assert website.delete(stack_name="resync", target="local") is True
    assert website.delete(stack_name="resync", target="local") is False
    status, _, body = fetch(first["WebsiteURL"] + "/")
    assert status == 404 and b"<li>Code: NoSuchBucket</li>" in body


def test_a_game_stack_without_a_websocket_url_gets_no_pages(cloud: dict) -> None:
    with pytest.raises(website.WebsiteError, match="has no WebSocketURL output"):
        website.publish(stack_name="nothing", target="local", game_outputs={})


def test_a_bucket_policy_for_everyone_needs_the_block_turned_off(cloud: dict, tmp_path: Path
                                                                 ) -> None:
    # As on AWS since April 2023: the template must say BlockPublicPolicy: false.
    template = tmp_path / "site.yaml"
    template.write_text(website.TEMPLATE.read_text().replace(
        "      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n"
        "        IgnorePublicAcls: true\n        BlockPublicPolicy: false\n"
        "        RestrictPublicBuckets: false\n", ""))
    assert "PublicAccessBlockConfiguration" not in template.read_text()
    with pytest.raises(local_cloud.DeployFailed,
                       match=r"SiteBucketPolicy: AccessDenied: Access Denied \(the bucket "
                             r"blocks public bucket policies"):
        local_cloud.deploy(template, stack_name="blocked")


def test_the_aws_path_deploys_with_sam_and_uploads_with_boto3(cloud: dict,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """The aws target's steps, with `sam deploy` standing in as a local deploy: the website
    template is deployed without a build, and the pages go up with plain boto3."""
    from workshop import aws_target

    deployed: list[tuple[str, bool]] = []

    def sam_deploy(template: Path, *, stack_name: str, build: bool = True,
                   parameters: object = None) -> dict:
        deployed.append((stack_name, build))
        return local_cloud.deploy(template, stack_name=stack_name)

    monkeypatch.setattr(aws_target, "deploy", sam_deploy)
    monkeypatch.setattr(aws_target, "outputs",
                        lambda name: local_cloud.outputs(stack_name=name))
    site = website.publish(stack_name="onaws", target="aws", game_outputs=FAKE_GAME)
    assert deployed == [("onaws-website", False)]
    status, _, body = fetch(site["TriviaPageURL"] + "config.js")
    assert status == 200 and b'"target": "aws"' in body
    monkeypatch.setattr(aws_target, "delete",
                        lambda name: local_cloud.delete(stack_name=name))
    assert website.delete(stack_name="onaws", target="aws") is True


@pytest.mark.parametrize(("learner", "expected"), [
    ("", "workshop"), ("ada", "workshop-ada"), ("team-3", "workshop-team-3")])
def test_learners_sharing_an_account_get_stacks_of_their_own(
        monkeypatch: pytest.MonkeyPatch, learner: str, expected: str) -> None:
    from workshop import aws_target

    monkeypatch.setenv(aws_target.LEARNER_VARIABLE, learner)
    assert aws_target.account_stack_name("workshop") == expected
    assert aws_target.account_stack_name(expected) == expected
    assert aws_target.account_stack_name(website.site_stack_name("workshop")) == \
        "workshop-website" + (f"-{learner}" if learner else "")


@pytest.mark.parametrize("learner", ["Ada", "-ada", "a" * 17, "ada lovelace", "ada_1"])
def test_a_learner_name_that_cannot_name_a_stack_is_refused(
        monkeypatch: pytest.MonkeyPatch, learner: str) -> None:
    from workshop import aws_target

    monkeypatch.setenv(aws_target.LEARNER_VARIABLE, learner)
    with pytest.raises(aws_target.AwsTargetError, match="cannot be part of a stack name"):
        aws_target.account_stack_name("workshop")


def test_the_cli_publishes_with_a_game_and_deletes_with_it(cloud: dict) -> None:
    import subprocess
    import sys

    def workshop(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                              text=True, timeout=300)

    echo = str(Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml")
    bare = workshop("deploy", "--template", echo, "--stack-name", "bare", "--no-website")
    assert bare.returncode == 0, bare.stderr
    assert "BattlePageURL" not in bare.stdout
    assert "bare-website" not in local_cloud.status()["stacks"]
    paged = workshop("deploy", "--template", echo, "--stack-name", "cliweb")
    assert paged.returncode == 0, paged.stderr
    assert "  BattlePageURL " in paged.stdout and "/_website/cliweb-website-" in paged.stdout
    listed = json.loads(workshop("outputs", "--json", "--stack-name", "cliweb").stdout)
    assert listed["TriviaPageURL"].endswith("/trivia/") and "WebSocketURL" in listed
    deleted = workshop("delete", "--stack-name", "cliweb")
    assert deleted.stdout.splitlines()[1] == "website cliweb-website deleted too, with its pages"
    assert not {"cliweb", "cliweb-website"} & set(local_cloud.status()["stacks"])


def test_cfn_lint_accepts_the_website_template() -> None:
    """The schema AWS checks, offline: the template deploys as it is on AWS too."""
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(website.TEMPLATE)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
