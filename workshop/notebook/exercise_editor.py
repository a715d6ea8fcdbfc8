"""An editor for one workspace file inside the notebook: a text area, Save and Reload.

For learners who would rather not switch to JupyterLab's editor tab. Saving keeps a
backup of what the file held before (``.workshop/backups/``), as every workspace change
does; Reload throws away unsaved edits in the text area, never in the file.
"""

from __future__ import annotations

import ipywidgets as widgets

from ..exercises.workspace import Workspace

__all__ = ["Editor"]


class Editor:
    """A text area bound to one file of the workspace."""

    def __init__(self, workspace: Workspace, relative: str) -> None:
        self.workspace, self.relative = workspace, relative
        self.text = widgets.Textarea(layout=widgets.Layout(width="100%", height="420px"))
        self.text.style.font_family = "monospace"   # ipywidgets ≥ 8.1 honours this
        save = widgets.Button(description="Save", icon="save", button_style="primary")
        reload = widgets.Button(description="Reload from disk", icon="refresh")
        self.status = widgets.HTML()
        save.on_click(lambda _button: self.save())
        reload.on_click(lambda _button: self.reload())
        self.widget = widgets.VBox([widgets.HTML(f"<b>{relative}</b>"), self.text,
                                    widgets.HBox([save, reload, self.status])])
        self.reload()

    def reload(self) -> None:
        self.text.value = self.workspace.path(self.relative).read_text()
        self.status.value = "loaded from disk"

    def save(self) -> None:
        backup = self.workspace.save(self.relative, self.text.value)
        kept = f" (the previous version is in {backup.name})" if backup else ""
        self.status.value = f"saved{kept}: run the check again"
