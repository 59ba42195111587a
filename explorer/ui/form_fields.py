"""Form fields made from a settings table (``explorer.train.fields``): one widget per entry with the entry's
type, range, default and help, and reading, filling and watching it the same way for every kind. A form
lays the widgets out; what a setting is stays in the table the command line reads too."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from explorer.train.fields import Field


def make_widget(f: Field) -> QWidget:
    """The widget for ``f``, showing its window default, with its help as the tooltip."""
    if f.kind is bool:
        w = QCheckBox(f.label)
        w.setChecked(bool(f.form_default))
    elif f.choices:
        w = QComboBox()
        w.addItems(list(f.choices))
        w.setCurrentText(str(f.form_default))
    elif f.kind is int:
        w = QSpinBox()
        w.setRange(int(f.lo), int(f.hi))
        w.setValue(int(f.form_default or 0))
    elif f.kind is float:
        w = QDoubleSpinBox()
        w.setDecimals(5)
        w.setRange(f.lo, f.hi)
        w.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        w.setValue(float(f.form_default))
    else:
        w = QLineEdit(str(f.form_default or ""))
    w.setToolTip(f.tooltip())
    return w


def value(w: QWidget):
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, QComboBox):
        return w.currentData() if w.currentData() is not None else w.currentText()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    return w.text()


def set_value(w: QWidget, v) -> bool:
    """Show ``v`` (a value read from a file: any type) if it fits the widget; False when it does not."""
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(w, QCheckBox):
        w.setChecked(v is True)
    elif isinstance(w, QComboBox):
        i = w.findData(v) if w.findData(v) >= 0 else w.findText(str(v))
        if v is None or i < 0:
            return False
        w.setCurrentIndex(i)
    elif isinstance(w, QSpinBox):
        if not (number and isinstance(v, int)):
            return False
        w.setValue(v)
    elif isinstance(w, QDoubleSpinBox):
        if not number:
            return False
        w.setValue(float(v))
    else:
        w.setText("" if v is None else str(v))
    return True


def changed_signal(w: QWidget):
    """The signal ``w`` sends when the person changes it."""
    if isinstance(w, QCheckBox):
        return w.toggled
    if isinstance(w, QComboBox):
        return w.currentIndexChanged
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.valueChanged
    return w.textChanged
