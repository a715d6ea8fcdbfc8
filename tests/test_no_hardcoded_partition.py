"""No partition, region, account or AWS host is written into what gets deployed.

The original lottery lab ran in cn-northwest-1, where ARNs start ``arn:aws-cn:`` and hosts
end ``amazonaws.com.cn``. So the templates, the state machine definitions, the handlers and
the web pages name none of these: they take them from ``${AWS::Partition}``,
``${AWS::Region}``, ``${AWS::AccountId}`` and ``${AWS::URLSuffix}`` (or a
``DefinitionSubstitutions`` entry made of them), or from the event at run time.

The one allowance: an IAM *service principal* such as ``apigateway.amazonaws.com``. It
names a service, not a host, and it is the same in every partition for the services used
here: aws-sam-translator writes ``lambda.amazonaws.com``, ``states.amazonaws.com`` and
``apigateway.amazonaws.com`` into the roles it generates whatever the partition (while it
builds ARNs with the partition), and IAM in the China regions refuses the ``.com.cn`` form
for such principals. So ``amazonaws.com`` passes only as the value of a ``Principal``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What the stack deploys: the templates, every ASL file and every handler and page.
SCANNED_GLOBS = ("template.yaml", "website.yaml", "solutions/statemachines/*.yaml",
                 "solutions/**/*.asl.json", "solutions/**/*.py", "web/**/*.js",
                 "web/**/*.html")

_REGION = (r"(?:us-gov|us|eu|ap|sa|ca|me|af|il|mx|cn)-"
           r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d")
PROBLEMS = {
    "a partition written in an ARN": re.compile(r"\barn:aws(?:-[a-z]+)*:"),
    "an AWS host name": re.compile(r"[A-Za-z0-9${}.:-]*\.amazonaws\.com(?:\.cn)?\b"),
    "a region name": re.compile(rf"(?<![A-Za-z0-9-]){_REGION}(?![A-Za-z0-9])"),
    "an account id": re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])"),
}
# ``Principal: apigateway.amazonaws.com`` or ``Principal: {Service: sns.amazonaws.com}``.
SERVICE_PRINCIPAL = re.compile(
    r"^\s*(?:-\s*)?Principal:\s*(?:\{\s*Service:\s*)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com"
    r"\s*\}?\s*(?:#.*)?$")


def problems(text: str) -> list[tuple[int, str, str]]:
    """(line number, what, the text) for each hard-coded partition, host, region or account."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in PROBLEMS.items():
            for match in pattern.finditer(line):
                if what == "an AWS host name" and SERVICE_PRINCIPAL.match(line):
                    continue
                found.append((number, what, match.group(0)))
    return found


def scanned_files() -> list[Path]:
    files = {path for pattern in SCANNED_GLOBS for path in ROOT.glob(pattern)
             if "__pycache__" not in path.parts}
    return sorted(files)


def test_the_scan_covers_the_templates_the_definitions_the_handlers_and_the_pages() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in scanned_files()}
    assert {"template.yaml", "website.yaml", "solutions/statemachines/lottery.asl.json",
            "solutions/statemachines/trivia.asl.json", "solutions/statemachines/primer.yaml",
            "solutions/lottery/record_winners.py", "solutions/trivia/games.py",
            "web/shared/connection.js", "web/battle/index.html"} <= names


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_deployed_names_a_partition_region_account_or_host(path: Path) -> None:
    found = problems(path.read_text(encoding="utf-8"))
    assert not found, "\n".join(
        f"{path.relative_to(ROOT)}:{line}: {what} {text!r}: use ${{AWS::Partition}}, "
        "${AWS::Region}, ${AWS::AccountId} or ${AWS::URLSuffix}" for line, what, text in found)


@pytest.mark.parametrize("line, what", [
    # the lottery definition as it was: it broke in cn-northwest-1
    ('"Resource": "arn:aws:states:::sns:publish",', "a partition written in an ARN"),
    ('"Resource": "arn:aws:states:::dynamodb:deleteItem",', "a partition written in an ARN"),
    ('Resource: "arn:aws-cn:sns:*:*:*"', "a partition written in an ARN"),
    # the template's outputs as they were: the China regions' hosts end amazonaws.com.cn
    ("Value: !Sub wss://${MainEntry}.execute-api.${AWS::Region}.amazonaws.com/${Stage}",
     "an AWS host name"),
    ('const url = "https://abc.execute-api.amazonaws.com.cn/prod";', "an AWS host name"),
    ('TopicArn: "arn:${AWS::Partition}:sns:cn-northwest-1:${AWS::AccountId}:t"',
     "a region name"),
    ('region_name="us-east-1"', "a region name"),
    ("Resource: !Sub arn:${AWS::Partition}:sns:${AWS::Region}:123456789012:t", "an account id"),
])
def test_each_kind_of_hard_coding_is_found(line: str, what: str) -> None:
    assert [found[1] for found in problems(line)] == [what]


@pytest.mark.parametrize("line", [
    "Principal: apigateway.amazonaws.com",
    "      Principal: apigateway.amazonaws.com  # the gateway may invoke it",
    "            Principal: {Service: sns.amazonaws.com}",
    '"Resource": "arn:${Partition}:states:::sns:publish",',
    "Value: !Sub wss://${MainEntry}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}",
    "Resource: !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
    "const id = 1234567890123;  // thirteen digits is no account id",
    "max_attempts = 123456789012345",
])
def test_references_and_service_principals_pass(line: str) -> None:
    assert problems(line) == []


def test_a_principal_is_no_excuse_for_a_host_elsewhere_on_the_line() -> None:
    assert problems("Principal: apigateway.amazonaws.com.cn") != []
    assert problems("Url: https://sns.amazonaws.com  # Principal: x.amazonaws.com") != []
