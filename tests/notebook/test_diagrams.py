"""The architecture diagram is generated from the template, lab by lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.notebook import diagrams

FULL = Path(__file__).resolve().parents[1] / "fixtures" / "templates" / "full.yaml"

LABBED = """\
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Metadata: {Workshop: {Lab: 1}}
    Properties: {Name: game, ProtocolType: WEBSOCKET}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {Workshop: {Lab: 1}}
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment: {Variables: {URL: !Sub "https://${Api}.example/dev", T: !Ref Table}}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Metadata: {Workshop: {Lab: 1}}
    Properties: {ApiId: !Ref Api, IntegrationUri: !GetAtt Fn.Arn}
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Metadata: {Workshop: {Lab: 1}}
    Properties: {ApiId: !Ref Api, RouteKey: $connect, Target: !Sub "integrations/${Integration}"}
  Table:
    Type: AWS::DynamoDB::Table
    Metadata: {Workshop: {Lab: 2}}
    Properties: {}
"""


@pytest.fixture
def labbed(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(LABBED)
    return path


def test_routes_point_through_their_integration_at_the_function(labbed: Path) -> None:
    source = diagrams.architecture(template=labbed).splitlines()
    assert source[0] == "flowchart LR"
    assert '  subgraph Api["Api · WebSocket API"]' in source
    assert '    ConnectRoute["$connect"]' in source
    assert "  ConnectRoute --> Fn" in source
    assert "  Fn --> Table" in source
    assert '  Fn -.->|"@connections"| players' in source
    assert not any("Integration" in line for line in source)


def test_a_lab_draws_what_exists_after_it_and_highlights_its_own(labbed: Path) -> None:
    lab1 = diagrams.architecture(lab=1, template=labbed)
    assert "Table" not in lab1
    assert "class Api,ConnectRoute,Fn new" in lab1
    lab2 = diagrams.architecture(lab=2, template=labbed)
    assert "class Table new" in lab2
    assert "classDef" not in diagrams.architecture(lab=2, highlight=False, template=labbed)


def test_every_kind_of_resource_of_the_full_fixture() -> None:
    source = diagrams.architecture(template=FULL)
    for line in ['  GameFlow{{"⚙ GameFlow"}}', '  Announcements>"📣 Announcements"]',
                 "  GameFlow --> TickFunction", "  Announcements --> AnnouncementsQueue",
                 '  TickFunctionEveryMinute(["⏰ rate(1 minute)"])']:
        assert line in source.splitlines()


def test_lab_map_lists_each_lab_with_its_notebook(labbed: Path, tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_hello.ipynb").write_text("{}")
    frame = diagrams.lab_map(template=labbed)
    assert frame.to_dict("records") == [
        {"lab": 1, "notebook": "01_hello.ipynb",
         "new resources": "Api, Fn, Integration, ConnectRoute"},
        {"lab": 2, "notebook": "", "new resources": "Table"}]
