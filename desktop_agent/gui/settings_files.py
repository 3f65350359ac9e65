"""Settings → General → Files: the attachment limits (the longest side of an image,
the largest file, everything in one message, the text of one document), written to
settings.json's "attachments" section, where `AttachmentLimits.from_settings` reads
them for the next file attached. A value out of range is said next to its field and
Save keeps the dialog open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from .settings_pages import problem_label, show_problem

__all__ = ["FIELDS", "AttachmentLimitsGroup"]

MB = 1024 * 1024


@dataclass(frozen=True)
class _Field:
    key: str  # in the "attachments" section (AttachmentLimits' field)
    label: str
    unit: str  # shown after the field
    scale: int  # stored value = shown value × scale
    low: float
    high: float
    decimals: bool  # fractions allowed (MB)


FIELDS = (
    _Field("image_side", "Longest side of an image", "px", 1, 256, 8192, False),
    _Field("file_bytes", "Largest file", "MB", MB, 1, 4096, True),
    _Field("message_bytes", "Everything in one message", "MB", MB, 1, 1024, True),
    _Field("text_chars", "Text of one document", "characters", 1, 1000, 10_000_000, False),
)


class AttachmentLimitsGroup(QGroupBox):
    def __init__(self, saved: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__("Files", parent)
        from ..app.attachments import AttachmentLimits

        self.setAccessibleName("Attachment limits")
        limits = AttachmentLimits.from_settings(saved)
        self.loaded: dict[str, int] = {f.key: int(getattr(limits, f.key)) for f in FIELDS}
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout(self)
        form.setVerticalSpacing(4)
        for field in FIELDS:
            edit = QLineEdit(_shown(self.loaded[field.key], field), self)
            edit.setAccessibleName(f"{field.label} ({field.unit})")
            edit.setAccessibleDescription(f"From {_number(field.low)} to {_number(field.high)}")
            edit.setMaximumWidth(140)
            edit.textChanged.connect(lambda _t, field=field: self._check(field))
            unit = QLabel(field.unit, self)
            error = problem_label(self, f"{field.label}: problem")
            row = QVBoxLayout()
            row.setSpacing(0)
            line = QFormLayout()
            line.setContentsMargins(0, 0, 0, 0)
            line.addRow(edit, unit)
            row.addLayout(line)
            row.addWidget(error)
            form.addRow(field.label, row)
            self.fields[field.key], self.errors[field.key] = edit, error
        hint = QLabel("For the next file you attach; images are scaled down, long text is cut.")
        hint.setWordWrap(True)
        hint.setAccessibleName("About the limits")
        form.addRow("", hint)

    def value(self, key: str) -> int | None:
        """The field's value as stored (None: not a valid value)."""
        field = next(f for f in FIELDS if f.key == key)
        text = self.fields[key].text().strip().replace(",", "")
        try:
            number = float(text) if field.decimals else int(text)
        except ValueError:
            return None
        if not field.low <= number <= field.high:
            return None
        return int(number * field.scale)

    def _check(self, field: _Field) -> bool:
        ok = self.value(field.key) is not None
        kind = "A number" if field.decimals else "A whole number"
        problem = f"{kind} from {_number(field.low)} to {_number(field.high)} {field.unit}"
        return show_problem(self.errors[field.key], "" if ok else problem)

    def validate(self) -> bool:
        """Every field checked (problems shown); focus goes to the first wrong one."""
        wrong = [f for f in FIELDS if not self._check(f)]
        if wrong:
            self.fields[wrong[0].key].setFocus()
        return not wrong

    def changes(self) -> dict[str, int]:
        """The values that differ from what was loaded (only they are written)."""
        values = {f.key: self.value(f.key) for f in FIELDS if self._edited(f)}
        return {k: v for k, v in values.items() if v is not None and v != self.loaded[k]}

    def _edited(self, field: _Field) -> bool:
        return self.fields[field.key].text() != _shown(self.loaded[field.key], field)

    def apply(self) -> None:
        """Write the changed limits to settings.json's "attachments" section."""
        changes = self.changes()
        if not changes:
            return
        from ..app.settings import update_settings

        def change(saved: dict[str, Any]) -> None:
            section = saved.get("attachments")
            if not isinstance(section, dict):
                section = saved["attachments"] = {}
            section.update(changes)

        update_settings(change)
        self.loaded.update(changes)


def _shown(value: int, field: _Field) -> str:
    if field.scale == 1:
        return str(value)
    shown = value / field.scale
    return str(int(shown)) if shown == int(shown) else f"{shown:.1f}"


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else str(value)
