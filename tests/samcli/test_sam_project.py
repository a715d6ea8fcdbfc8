"""workshop.sam_project: a lab written as a SAM project folder that `sam` can build alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workshop import lab, sam_project
from workshop.emulator.template import load_template


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))


def test_lab_1_becomes_a_folder_with_its_template_and_code(tmp_path: Path) -> None:
    project = sam_project.write(1, into=tmp_path / "hello-sam", stack_name="hello-sam")
    body = yaml.safe_load((project / "template.yaml").read_text())
    function = body["Resources"]["MainServerFunction"]["Properties"]
    assert function["CodeUri"] == "main_server/"
    assert body["Resources"]["SharedCodeLayer"]["Properties"]["ContentUri"] == "shared/"
    assert (project / "main_server" / "app.py").read_text() == (
        lab.TEMPLATE.parent / "solutions" / "main_server" / "app.py").read_text()
    assert not list(project.rglob("__pycache__"))
    # Lab 1 only, with the template's own description (the aws target recognises it).
    assert "TriviaStateMachine" not in body["Resources"]
    assert body["Description"] == load_template(lab.TEMPLATE).body["Description"]


def test_writing_again_replaces_the_copy_and_never_touches_the_source(tmp_path: Path) -> None:
    project = sam_project.write(1, into=tmp_path / "p")
    (project / "main_server" / "app.py").write_text("edited")
    (project / "stray.txt").write_text("left from before")
    sam_project.write(1, into=project)
    assert "def handler" in (project / "main_server" / "app.py").read_text()
    assert not (project / "stray.txt").exists()


def test_code_the_template_names_but_that_is_missing_is_said(tmp_path: Path) -> None:
    template = tmp_path / "src" / "template.yaml"
    template.parent.mkdir()
    template.write_text(lab.TEMPLATE.read_text())
    (tmp_path / "src" / "solutions").mkdir()   # the code is not there
    with pytest.raises(sam_project.SamProjectError, match=r"src/solutions/shared: named by "
                       r"the template but missing; restore it"):
        sam_project.write(1, into=tmp_path / "p", template=template)
