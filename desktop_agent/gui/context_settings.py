"""A provider's context settings in the Settings dialog: context length, the room kept
for the answer, what happens to what does not fit, and prices."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from ..app.providers import ConnectionConfig

__all__ = ["ContextFields", "ConversationContextDialog"]

#: strategy -> its label (the engine's names)
STRATEGIES = {
    "summarise": "Summarize older messages",
    "drop_oldest": "Leave out the oldest messages",
    "off": "Off: send everything",
}


class ContextFields(QWidget):
    """Context length (0: ask the server), reserve, strategy, prices per million tokens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.window_size = QSpinBox(self)
        self.window_size.setRange(0, 10_000_000)
        self.window_size.setSingleStep(1024)
        self.window_size.setSpecialValueText("ask the server")
        self.window_size.setAccessibleName("Model context length (tokens)")
        self.reserve = QSpinBox(self)
        self.reserve.setRange(0, 1_000_000)
        self.reserve.setSingleStep(256)
        self.reserve.setAccessibleName("Tokens kept for the answer")
        self.strategy = QComboBox(self)
        self.strategy.setAccessibleName("When the conversation does not fit")
        for key, label in STRATEGIES.items():
            self.strategy.addItem(label, key)
        self.price_in = QDoubleSpinBox(self)
        self.price_out = QDoubleSpinBox(self)
        for box, name in ((self.price_in, "input"), (self.price_out, "output")):
            box.setRange(0.0, 1000.0)
            box.setDecimals(3)
            box.setSpecialValueText("from the server, if it says")
            box.setAccessibleName(f"Price of {name} tokens, dollars per million")
        form.addRow("Context length", self.window_size)
        form.addRow("Keep for the answer", self.reserve)
        form.addRow("When it does not fit", self.strategy)
        form.addRow("Input price ($/M tokens)", self.price_in)
        form.addRow("Output price ($/M tokens)", self.price_out)

    def load(self, config: ConnectionConfig) -> None:
        self.window_size.setValue(max(0, config.context_window))
        self.reserve.setValue(max(0, config.reserve))
        index = self.strategy.findData(config.compaction)
        self.strategy.setCurrentIndex(index if index >= 0 else 0)
        self.price_in.setValue(config.price_in)
        self.price_out.setValue(config.price_out)

    def apply(self, config: ConnectionConfig) -> ConnectionConfig:
        return replace(
            config,
            context_window=self.window_size.value(),
            reserve=self.reserve.value(),
            compaction=str(self.strategy.currentData()),
            price_in=round(self.price_in.value(), 6),
            price_out=round(self.price_out.value(), 6),
        )


class ConversationContextDialog(QDialog):
    """One conversation's own reserve and strategy ("the provider's" by default).

    `chosen` is emitted with the new `ContextPolicy`, or None for the provider's."""

    chosen = Signal(object)  # ContextPolicy | None

    def __init__(self, policy: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Context of this conversation")
        form = QFormLayout(self)
        self.strategy = QComboBox(self)
        self.strategy.setAccessibleName("When this conversation does not fit")
        self.strategy.addItem("As its provider is set", None)
        for key, label in STRATEGIES.items():
            self.strategy.addItem(label, key)
        self.reserve = QSpinBox(self)
        self.reserve.setRange(0, 1_000_000)
        self.reserve.setSingleStep(256)
        self.reserve.setAccessibleName("Tokens kept for the answer in this conversation")
        if policy is not None:
            self.strategy.setCurrentIndex(max(0, self.strategy.findData(policy.strategy)))
            self.reserve.setValue(policy.reserve)
        else:
            self.reserve.setValue(1024)
        self.strategy.currentIndexChanged.connect(self._enable)
        self._enable()
        form.addRow("When it does not fit", self.strategy)
        form.addRow("Keep for the answer", self.reserve)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _enable(self) -> None:
        self.reserve.setEnabled(self.strategy.currentData() is not None)

    def policy(self) -> Any:
        from ..engine.context import ContextPolicy

        strategy = self.strategy.currentData()
        if strategy is None:
            return None
        return ContextPolicy(reserve=self.reserve.value(), strategy=str(strategy))

    def save(self) -> None:
        self.chosen.emit(self.policy())
        self.accept()
