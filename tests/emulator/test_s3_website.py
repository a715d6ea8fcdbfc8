"""S3 static website hosting as the local cloud emulates it (workshop.emulator.s3_website).

Each rule is one the S3 user guide states for website endpoints: index documents (also for
"folders", with the 302 that adds the slash), custom error documents served with the
error's status, HTML error pages (404 NoSuchKey, NoSuchBucket, NoSuchWebsiteConfiguration,
403 AccessDenied, 405 for anything but GET and HEAD), only publicly readable objects,
Block Public Access, the object's own Content-Type, and redirects.

The website reads the buckets through moto in this process (as the local cloud does);
buckets are made with boto3 against moto's in-process mock, which shares its backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workshop.emulator import s3_public_access
from workshop.emulator.moto_services import MotoServices
from workshop.emulator.s3_public_access import RequestContext
from workshop.emulator.s3_website import (
    Address,
    Reply,
    _MotoStore,
    parse_address,
    serve,
    website_url,
)
from workshop.emulator.settings import Settings

PUBLIC_READ = {"Version": "2012-10-17", "Statement": [{
    "Sid": "EveryoneMayRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::site/*"}]}
ALLOW_POLICIES = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                  "BlockPublicPolicy": False, "RestrictPublicBuckets": False}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_MotoStore]:
    patch = pytest.MonkeyPatch()
    patch.setenv("MOTO_PORT", "1")      # MotoServices sets it; leave the environment as found
    settings = Settings(port=1, home=tmp_path_factory.mktemp("home"))
    moto = MotoServices(settings, threads=1)
    yield _MotoStore(moto)
    moto.close()
    patch.undo()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, store: _MotoStore) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")


def make_site(s3: Any, *, policy: dict | None = PUBLIC_READ, error_document: bool = False,
              block: dict | None = None) -> None:
    """A bucket "site" with pages, a website configuration and (by default) a public policy."""
    s3.create_bucket(Bucket="site")
    s3.put_public_access_block(Bucket="site",
                               PublicAccessBlockConfiguration=block or ALLOW_POLICIES)
    if policy is not None:
        s3.put_bucket_policy(Bucket="site", Policy=json.dumps(policy))
    config: dict[str, Any] = {"IndexDocument": {"Suffix": "index.html"}}
    if error_document:
        config["ErrorDocument"] = {"Key": "error.html"}
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration=config)
    for key, body, kind in [("index.html", b"<h1>home</h1>", "text/html"),
                            ("battle/index.html", b"<h1>battle</h1>", "text/html"),
                            ("battle/main.js", b"export {};", "text/javascript"),
                            ("battle/battle.css", b"body {}", "text/css")]:
        s3.put_object(Bucket="site", Key=key, Body=body, ContentType=kind)


def get(store: _MotoStore, key: str | None, *, method: str = "GET", bucket: str = "site",
        form: str = "path", headers: dict[str, str] | None = None,
        context: RequestContext | None = None) -> Reply:
    return serve(store, method=method, address=Address(bucket, key, form),
                 host="127.0.0.1:4580", headers=headers or {},
                 context=context or RequestContext())


def page_items(reply: Reply) -> list[str]:
    """The "Name: value" lines of S3's HTML error page."""
    text = reply.body.decode()
    assert text.startswith("<html>"), text
    return [line[4:-5] for line in text.splitlines() if line.startswith("<li>")]


# -- addresses --------------------------------------------------------------------------


def test_the_path_form_names_the_bucket_and_key() -> None:
    assert parse_address("127.0.0.1:4580", "/_website/site/battle/main.js?v=2",
                         region="us-east-1") == Address("site", "battle/main.js", "path")
    assert parse_address("127.0.0.1:4580", "/_website/site/", region="us-east-1") \
        == Address("site", "", "path")
    assert parse_address("127.0.0.1:4580", "/_website/site", region="us-east-1") \
        == Address("site", None, "path")
    assert parse_address("127.0.0.1:4580", "/_website/site/a%20b.html", region="us-east-1") \
        == Address("site", "a b.html", "path")


def test_the_virtual_host_form_is_the_aws_host_name_under_localhost() -> None:
    for host in ("site.s3-website-us-east-1.localhost:4580",
                 "site.s3-website.us-east-1.localhost"):
        assert parse_address(host, "/battle/", region="us-east-1") \
            == Address("site", "battle/", "host")
    assert parse_address("site.s3-website-eu-west-1.localhost:4580", "/", region="us-east-1") \
        is None
    assert parse_address("127.0.0.1:4580", "/site/battle/", region="us-east-1") is None


def test_website_urls_in_outputs_become_the_local_path_form() -> None:
    endpoint = "http://127.0.0.1:4580"
    assert website_url("http://site-1.s3-website-us-east-1.amazonaws.com", endpoint) \
        == "http://127.0.0.1:4580/_website/site-1"
    assert website_url("http://site.s3-website.eu-central-1.amazonaws.com/battle/", endpoint) \
        == "http://127.0.0.1:4580/_website/site/battle/"
    assert website_url("https://example.com/x", endpoint) == "https://example.com/x"


# -- index documents, content types, methods --------------------------------------------


def test_the_index_document_answers_the_root_and_each_folder(store: _MotoStore, s3: Any
                                                              ) -> None:
    make_site(s3)
    root, folder = get(store, ""), get(store, "battle/")
    assert (root.status, root.body) == (200, b"<h1>home</h1>")
    assert (folder.status, folder.body) == (200, b"<h1>battle</h1>")
    assert folder.headers["Content-Type"] == "text/html"


def test_a_folder_without_its_slash_is_redirected_to_it(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    # Relative in the path form, so that it also works behind a proxy's prefix.
    assert (get(store, "battle").status, get(store, "battle").headers["Location"]) \
        == (302, "battle/")
    assert get(store, "battle", form="host").headers["Location"] == "/battle/"
    assert get(store, None).headers["Location"] == "site/"


def test_each_object_is_served_with_its_own_content_type(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    assert get(store, "battle/main.js").headers["Content-Type"] == "text/javascript"
    assert get(store, "battle/battle.css").headers["Content-Type"] == "text/css"
    assert "ETag" in get(store, "battle/main.js").headers


def test_head_answers_like_get_without_a_body(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    reply = get(store, "battle/main.js", method="HEAD")
    assert (reply.status, reply.body, reply.headers["Content-Length"]) == (200, b"", "10")
    assert get(store, "missing.js", method="HEAD").body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_only_get_and_head_are_allowed(store: _MotoStore, s3: Any, method: str) -> None:
    make_site(s3)
    reply = get(store, "battle/main.js", method=method)
    assert reply.status == 405
    assert page_items(reply)[:4] == [
        "Code: MethodNotAllowed",
        "Message: The specified method is not allowed against this resource.",
        f"Method: {method}", "ResourceType: OBJECT"]
    assert s3.get_object(Bucket="site", Key="battle/main.js")["Body"].read() == b"export {};"


def test_a_conditional_get_of_an_unchanged_object_is_304(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    etag = get(store, "battle/main.js").headers["ETag"]
    assert get(store, "battle/main.js", headers={"If-None-Match": etag}).status == 304


# -- errors -----------------------------------------------------------------------------


def test_a_missing_key_is_404_no_such_key_as_an_html_page(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    reply = get(store, "battle/missing.js")
    assert (reply.status, reply.headers["Content-Type"]) == (404, "text/html; charset=utf-8")
    assert page_items(reply)[:3] == ["Code: NoSuchKey",
                                     "Message: The specified key does not exist.",
                                     "Key: battle/missing.js"]
    assert "<title>404 Not Found</title>" in reply.body.decode()


def test_a_folder_without_an_index_document_is_404(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    assert page_items(get(store, "trivia/"))[2] == "Key: trivia/index.html"


def test_the_error_document_is_served_with_the_errors_status(store: _MotoStore, s3: Any
                                                              ) -> None:
    make_site(s3, error_document=True)
    s3.put_object(Bucket="site", Key="error.html", Body=b"<p>lost</p>", ContentType="text/html")
    reply = get(store, "nowhere.html")
    assert (reply.status, reply.body, reply.headers["Content-Type"]) \
        == (404, b"<p>lost</p>", "text/html")


def test_a_missing_error_document_is_reported_below_the_error(store: _MotoStore, s3: Any
                                                               ) -> None:
    make_site(s3, error_document=True)
    reply = get(store, "nowhere.html")
    text = reply.body.decode()
    assert reply.status == 404
    assert "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>" \
        in text
    assert page_items(reply)[-3:] == ["Code: NoSuchKey",
                                      "Message: The specified key does not exist.",
                                      "Key: error.html"]


def test_an_unknown_bucket_and_a_bucket_without_a_website(store: _MotoStore, s3: Any) -> None:
    assert page_items(get(store, "", bucket="nobody"))[:3] == [
        "Code: NoSuchBucket", "Message: The specified bucket does not exist",
        "BucketName: nobody"]
    s3.create_bucket(Bucket="plain")
    reply = get(store, "", bucket="plain")
    assert reply.status == 404
    assert page_items(reply)[:3] == [
        "Code: NoSuchWebsiteConfiguration",
        "Message: The specified bucket does not have a website configuration",
        "BucketName: plain"]


# -- who may read -------------------------------------------------------------------------


def test_without_a_public_policy_every_object_is_403_access_denied(store: _MotoStore, s3: Any
                                                                    ) -> None:
    make_site(s3, policy=None)
    reply = get(store, "battle/main.js")
    assert reply.status == 403
    assert page_items(reply)[:2] == ["Code: AccessDenied", "Message: Access Denied"]
    # A key that does not exist is still 404: the website endpoint says so.
    assert get(store, "battle/missing.js").status == 404


def test_a_policy_covers_only_the_keys_it_names(store: _MotoStore, s3: Any) -> None:
    policy = json.loads(json.dumps(PUBLIC_READ))
    policy["Statement"][0]["Resource"] = "arn:aws:s3:::site/battle/*"
    make_site(s3, policy=policy)
    assert get(store, "battle/main.js").status == 200
    assert get(store, "").status == 403


def test_an_explicit_deny_wins(store: _MotoStore, s3: Any) -> None:
    policy = json.loads(json.dumps(PUBLIC_READ))
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::site/battle/*.css"})
    make_site(s3, policy=policy)
    assert get(store, "battle/main.js").status == 200
    assert get(store, "battle/battle.css").status == 403


def test_a_condition_on_the_callers_address_is_evaluated(store: _MotoStore, s3: Any) -> None:
    policy = json.loads(json.dumps(PUBLIC_READ))
    policy["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    make_site(s3, policy=policy)
    assert get(store, "", context=RequestContext(source_ip="10.1.2.3")).status == 200
    assert get(store, "", context=RequestContext(source_ip="192.168.1.5")).status == 403


def test_a_referer_condition_lets_only_the_named_site_in(store: _MotoStore, s3: Any) -> None:
    # The S3 guide's "restrict access to a specific HTTP referer" example.
    policy = json.loads(json.dumps(PUBLIC_READ))
    policy["Statement"][0]["Condition"] = {
        "StringLike": {"aws:Referer": "http://class.example/*"}}
    make_site(s3, policy=policy)
    assert get(store, "", context=RequestContext(referer="http://class.example/a")).status \
        == 200
    assert get(store, "", context=RequestContext(referer="http://elsewhere/")).status == 403
    assert get(store, "").status == 403                 # no Referer: the key is absent


def test_restrict_public_buckets_shuts_out_anonymous_readers(store: _MotoStore, s3: Any
                                                              ) -> None:
    make_site(s3, block={**ALLOW_POLICIES, "RestrictPublicBuckets": True})
    assert get(store, "").status == 403


def test_a_public_read_acl_counts_unless_public_acls_are_ignored(store: _MotoStore, s3: Any
                                                                  ) -> None:
    make_site(s3, policy=None, block={"BlockPublicAcls": False, "IgnorePublicAcls": False,
                                      "BlockPublicPolicy": False,
                                      "RestrictPublicBuckets": False})
    s3.put_object_acl(Bucket="site", Key="battle/main.js", ACL="public-read")
    assert get(store, "battle/main.js").status == 200
    assert get(store, "battle/battle.css").status == 403
    s3.put_public_access_block(Bucket="site", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    assert get(store, "battle/main.js").status == 403


# -- redirects ----------------------------------------------------------------------------


def test_an_object_with_a_redirect_location_answers_301(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    s3.put_object(Bucket="site", Key="old.html", Body=b"",
                  WebsiteRedirectLocation="/battle/")
    reply = get(store, "old.html")
    assert (reply.status, reply.headers["Location"]) == (301, "/battle/")


def test_routing_rules_and_redirect_all_requests(store: _MotoStore, s3: Any) -> None:
    make_site(s3)
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"},
             "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HostName": "example.com"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "example.com", "ReplaceKeyWith": "lost.html",
                          "HttpRedirectCode": "302"}}]})
    moved = get(store, "docs/a.html")
    assert (moved.status, moved.headers["Location"]) == (301, "http://example.com/documents/a.html")
    lost = get(store, "nowhere")
    assert (lost.status, lost.headers["Location"]) == (302, "http://example.com/lost.html")
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}})
    everything = get(store, "battle/")
    assert (everything.status, everything.headers["Location"]) \
        == (301, "https://example.org/battle/")


# -- Block Public Access on the local cloud's S3 ------------------------------------------


def test_a_new_bucket_blocks_all_public_access(store: _MotoStore, s3: Any) -> None:
    s3.create_bucket(Bucket="fresh")
    assert s3.get_public_access_block(Bucket="fresh")["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}


def test_a_public_policy_is_refused_until_the_bucket_allows_it(store: _MotoStore, s3: Any
                                                                ) -> None:
    s3.create_bucket(Bucket="site")
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.put_bucket_policy(Bucket="site", Policy=json.dumps(PUBLIC_READ))
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket="site")          # nothing was stored
    # A policy for one account is not public: allowed even while blocked.
    private = json.loads(json.dumps(PUBLIC_READ))
    private["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::123456789012:root"}
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps(private))
    s3.put_public_access_block(Bucket="site", PublicAccessBlockConfiguration=ALLOW_POLICIES)
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps(PUBLIC_READ))


@pytest.mark.parametrize(("statement", "public"), [
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]},
      "Action": "s3:GetObject"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
      "Action": "s3:GetObject"}, False),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*"}, False),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
      "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}, False),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
      "Condition": {"StringLike": {"aws:SourceAccount": "*"}}}, True),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
      "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}, True),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
      "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, False),
])
def test_what_s3_calls_a_public_policy(statement: dict, public: bool) -> None:
    policy = {"Statement": [{**statement, "Resource": "arn:aws:s3:::site/*"}]}
    assert s3_public_access.is_public_policy(policy) is public
