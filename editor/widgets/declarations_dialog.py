"""The form for a type's fields or cases and a datastore's schema: rows of name and
type, added, removed and retyped. (A function's parameters and return type are edited
in place in its header: `editor.widgets.canvas`.)

Types are written by name (`Int`, `List<String>`, `Note_v0`); the model reads
them (`editor.model.type_names`) and refuses, with the reason, what it cannot.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.model.declarations import Declarations, Row
from editor.widgets.theme import icon


class DeclarationsDialog(QDialog):
    def __init__(self, title: str, declarations: Declarations,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.declarations = declarations
        layout = QVBoxLayout(self)
        hint = "name" + (" and type (Int, String, List<Int>, ?, …)" if declarations.typed else "")
        layout.addWidget(QLabel(f"Each {declarations.noun}: {hint}", self))
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.rows: list[tuple[int | None, QLineEdit, QLineEdit | None, QWidget]] = []
        for row in declarations.rows:
            self.add_row(row)
        add = QPushButton(icon("add"), f"Add a {declarations.noun}", self)
        add.setObjectName("AddRow")
        add.clicked.connect(lambda: self.add_row(Row(None, "", "?")))
        layout.addWidget(add)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def add_row(self, row: Row) -> None:
        line = QWidget(self)
        box = QHBoxLayout(line)
        box.setContentsMargins(0, 0, 0, 0)
        name = QLineEdit(row.name, line)
        name.setPlaceholderText(self.declarations.noun)
        box.addWidget(name)
        type_edit: QLineEdit | None = None
        if self.declarations.typed:
            type_edit = QLineEdit(row.type_text, line)
            type_edit.setPlaceholderText("type")
            box.addWidget(type_edit)
        remove = QPushButton(icon("delete"), "", line)
        remove.setToolTip(f"Remove this {self.declarations.noun}")
        box.addWidget(remove)
        entry = (row.id, name, type_edit, line)
        remove.clicked.connect(lambda: self._remove(entry))
        self.rows.append(entry)
        self.rows_box.addWidget(line)

    def _remove(self, entry: tuple[int | None, QLineEdit, QLineEdit | None, QWidget]) -> None:
        self.rows.remove(entry)
        entry[3].deleteLater()

    def result_rows(self) -> list[Row]:
        return [Row(row_id, name.text().strip(), type_edit.text().strip() if type_edit else "")
                for row_id, name, type_edit, _w in self.rows]
