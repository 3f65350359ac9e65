"""A provider's context settings in the Settings dialog: context length, the room kept
for the answer, what happens to what does not fit, and prices."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from ..app.providers import ConnectionConfig

__all__ = ["ContextFields"]

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
