"""The training settings: data set, schedule, optimiser, device, seed. A form that produces a
``TrainConfig`` and a data set spec; it holds no state of its own beyond its fields.

Data sets that live on disk (CIFAR-10, MNIST, Fashion-MNIST, an image folder) take a folder chosen with
"Browse…"; the spec is then ``name:path`` exactly as the command line's ``--dataset`` takes it. Only
devices present on this machine are offered; mixed precision only when the device is CUDA. "TensorBoard
logs" names a folder that each run writes its event files under (as ``train --tensorboard``);
``tensorboardChanged`` says where ("" when off), and Train waits while the package is missing.

Fine-tuning: "Start from" (random weights, a run's weights, or a weights file chosen with "File…"), the
frozen nodes (a ``FreezeSet`` shared with the canvas and the inspector, which toggle it), the epoch they
unfreeze at, learning-rate multipliers per node or stage (``stage1=0.1, stage2=0.5``) and a limit on the
training samples (stratified).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton,
                               QSpinBox, QWidget)

from explorer.data import DATASET_HELP
from explorer.data.registry import parse_spec
from explorer.train import ConfigError, TrainConfig
from explorer.train.device import available_devices, resolve_device
from explorer.train.fields import FIELDS
from explorer.train.tensorboard_log import missing as tensorboard_missing
from explorer.ui.form_fields import changed_signal, make_widget, set_value, value
from explorer.ui.training.freeze_set import FreezeSet

BUILT_IN = ("digits", "shapes")
ON_DISK = (("cifar10", "CIFAR-10 (folder)…"), ("mnist", "MNIST (folder)…"),
           ("fashion-mnist", "Fashion-MNIST (folder)…"), ("folder", "Image folder…"))
SCRATCH = "random weights (from scratch)"
WEIGHTS_FILES = "Weights (*.pt *.pth *.ckpt);;All files (*)"


class SettingsForm(QWidget):
    """The settings of ``explorer.train.fields``' table are widgets made from it (``fields``, also reachable
    as attributes: ``form.epochs``); the rest (data set, intervals, TensorBoard, start from) are this form's."""

    changed = Signal()
    tensorboardChanged = Signal(str)   # the folder runs log to; "" when TensorBoard logs are off

    def __init__(self, parent: QWidget | None = None, freeze: FreezeSet | None = None, fine_tuning: bool = True):
        """``fine_tuning=False``: without the rows that start a run from other weights or freeze parts of it
        (a study trains every trial from scratch); their values stay the defaults."""
        super().__init__(parent)
        self.freeze_set = freeze if freeze is not None else FreezeSet(self)
        self.fields = {name: self._field(name) for name in FIELDS}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._build_data(form)
        self._build_schedule(form)
        self._build_logs(form)
        self._build_fine_tuning(form)
        if not fine_tuning:
            for w in (self.start_from.parentWidget(), self.frozen, self.fields["unfreeze_at"], self.lr_mult):
                form.setRowVisible(w, False)
        for combo in self.findChildren(QComboBox):   # a long entry ("run: resnet56 #2 fine-tuned…") never widens
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self._dataset_changed()
        self._device_changed()

    def __getattr__(self, name: str):
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def _field(self, name: str) -> QWidget:
        if name == "device":   # only the devices present on this machine
            w = QComboBox()
            w.addItem(f"auto ({resolve_device('auto').type})", "auto")
            for d in available_devices():
                w.addItem(d, d)
            w.setToolTip(FIELDS[name].tooltip())
        else:
            w = make_widget(FIELDS[name])
        if name != "device":   # the device changes through _device_changed
            changed_signal(w).connect(self.changed)
        return w

    def _build_data(self, form: QFormLayout) -> None:
        self.dataset = QComboBox()
        for name in BUILT_IN:
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, DATASET_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        for name, label in ON_DISK:
            self.dataset.addItem(label, name)
            self.dataset.setItemData(self.dataset.count() - 1, DATASET_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.path = QLineEdit()
        self.path.setPlaceholderText("folder of the data set")
        browse = QPushButton("Browse…")
        self.path_row = _row(self.path, browse)
        form.addRow("Data", self.dataset)
        form.addRow("", self.path_row)
        self.dataset.currentIndexChanged.connect(self._dataset_changed)
        browse.clicked.connect(self._browse)
        self.path.textChanged.connect(self.changed)

    def _build_schedule(self, form: QFormLayout) -> None:
        f = self.fields
        self.log_every = _interval("Steps between loss points (auto: about 400 points per run)")
        self.stats_every = _interval("Steps between per-layer gradient samples (auto: about 300 per run)")
        for name in ("epochs", "batch_size", "optimizer", "lr", "schedule", "weight_decay", "device", "amp", "seed"):
            form.addRow(FIELDS[name].label, f[name])
        form.addRow("Log every", self.log_every)
        form.addRow("Gradients every", self.stats_every)
        form.addRow(f["compile"])
        f["device"].currentIndexChanged.connect(self._device_changed)
        for w in (self.log_every, self.stats_every):
            w.valueChanged.connect(self.changed)

    def _build_logs(self, form: QFormLayout) -> None:
        self.tensorboard = QCheckBox("TensorBoard logs")
        self.tensorboard.setToolTip("Write each run's loss, accuracy, learning rate and per-layer gradient norms as "
                                    "TensorBoard event files, one sub-folder per run: tensorboard --logdir FOLDER")
        self.tensorboard_path = QLineEdit()
        self.tensorboard_path.setPlaceholderText("folder for the TensorBoard logs")
        browse = QPushButton("Browse…")
        self.tensorboard_row = _row(self.tensorboard_path, browse)
        form.addRow(self.tensorboard)
        form.addRow("", self.tensorboard_row)
        self.tensorboard.toggled.connect(self._tensorboard_changed)
        self.tensorboard_path.textChanged.connect(self._tensorboard_changed)
        browse.clicked.connect(self._browse_tensorboard)
        self.tensorboard_row.setVisible(False)

    def _build_fine_tuning(self, form: QFormLayout) -> None:
        self.start_from = QComboBox()
        self.start_from.addItem(SCRATCH, None)
        self.start_from.setToolTip("The weights a run starts from: fine-tuning loads what fits by node id and "
                                   "shape, and re-initialises the rest (a new classifier)")
        start_file = QPushButton("File…")
        start_file.setToolTip("Start from a checkpoint or a .pth state_dict")
        form.addRow("Start from", _row(self.start_from, start_file))
        self.frozen = QLineEdit()
        self.frozen.setObjectName("frozen")
        self.frozen.setPlaceholderText("none: right-click a node ▸ Freeze for Training")
        self.frozen.setToolTip("Node or stage ids kept fixed while training, comma-separated; until:NODE "
                               "freezes everything up to NODE")
        f = self.fields
        f["unfreeze_at"].setSpecialValueText("never")
        f["unfreeze_at"].setPrefix("epoch ")
        self.lr_mult = QLineEdit()
        self.lr_mult.setObjectName("lr_mult")
        self.lr_mult.setPlaceholderText("e.g. stage1=0.1, stage2=0.5")
        self.lr_mult.setToolTip("Learning-rate multipliers per node or stage: NODE=FACTOR, comma-separated")
        f["train_samples"].setSpecialValueText("all")
        for label, w in (("Frozen", self.frozen), ("Unfreeze at", f["unfreeze_at"]),
                         ("LR multipliers", self.lr_mult), ("Train samples", f["train_samples"])):
            form.addRow(label, w)
        self.start_from.currentIndexChanged.connect(self.changed)
        start_file.clicked.connect(self._browse_weights)
        self.frozen.editingFinished.connect(lambda: self.freeze_set.set_ids(self.frozen.text().split(",")))
        self.freeze_set.changed.connect(self._freeze_changed)
        self.lr_mult.textChanged.connect(self.changed)

    def set_start_from(self, source: str, label: str) -> None:
        """Start the next runs from ``source`` (a run folder or a weights file), shown as ``label``."""
        i = self.start_from.findData(source)
        if i < 0:
            self.start_from.addItem(label, source)
            self.start_from.setItemData(self.start_from.count() - 1, source, Qt.ItemDataRole.ToolTipRole)
            i = self.start_from.count() - 1
        self.start_from.setCurrentIndex(i)

    def init_from(self) -> str | None:
        return self.start_from.currentData()

    def lr_multipliers(self) -> dict[str, float]:
        """The multipliers field as a dict; raises ConfigError naming the entry that is not NODE=FACTOR."""
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in self.lr_mult.text().split(","))):
            node, sep, factor = part.partition("=")
            try:
                if not sep or not node.strip():
                    raise ValueError
                out[node.strip()] = float(factor)
            except ValueError:
                raise ConfigError(f"learning-rate multiplier '{part}' is not NODE=FACTOR (e.g. stage1=0.1)") from None
        return out

    # -- what the form says -----------------------------------------------------------------------
    def dataset_spec(self) -> str:
        name = self.dataset.currentData()
        if name in BUILT_IN:
            return name
        return f"{name}:{self.path.text().strip()}"

    def config(self) -> TrainConfig:
        """The settings as a TrainConfig (auto intervals as the engine's defaults until the worker sets them)."""
        table = {name: value(w) for name, w in self.fields.items()}
        table["amp"] = table["amp"] if self.amp.isEnabled() else "off"
        table["train_samples"] = table["train_samples"] or None   # 0 = all
        return TrainConfig(**table, log_every=self.log_every.value() or 10,
                           stats_every=self.stats_every.value() or 10, init_from=self.init_from(),
                           freeze=self.freeze_set.ids(), lr_mult=self._lr_mult_or_empty())

    def _lr_mult_or_empty(self) -> dict[str, float]:
        try:
            return self.lr_multipliers()
        except ConfigError:
            return {}   # problem() reports it and Train waits

    def tensorboard_dir(self) -> str:
        """The folder runs write TensorBoard logs under; "" when the option is off."""
        return self.tensorboard_path.text().strip() if self.tensorboard.isChecked() else ""

    @property
    def auto_log(self) -> bool:
        return self.log_every.value() == 0

    @property
    def auto_stats(self) -> bool:
        return self.stats_every.value() == 0

    def problem(self) -> str | None:
        """What stops a run from starting, as a sentence that says what to do; None when all is well."""
        if self.dataset.currentData() not in BUILT_IN and not self.path.text().strip():
            return f"choose the folder of the {self.dataset.currentText().split(' (')[0].rstrip('…')} data " \
                   "set with Browse…, or pick digits or shapes"
        if self.tensorboard.isChecked():
            if tensorboard_missing():
                return f"{tensorboard_missing()}, or untick TensorBoard logs"
            if not self.tensorboard_dir():
                return "choose the folder for the TensorBoard logs with Browse…, or untick TensorBoard logs"
        try:
            self.lr_multipliers()
            self.config().check()
        except ConfigError as e:
            return str(e)
        return None

    def apply(self, config: dict, dataset: str) -> None:
        """Fill the form from a run's settings ("train again with these settings")."""
        try:
            name, path = parse_spec(dataset)
        except Exception:
            name, path = "digits", None
        i = self.dataset.findData(name)
        if i >= 0:
            self.dataset.setCurrentIndex(i)
        self.path.setText(path or "")
        for key, w in self.fields.items():   # a value that does not fit leaves the field as it is, except
            if not set_value(w, config.get(key)) and key in ("unfreeze_at", "train_samples"):
                w.setValue(0)                      # the fine-tuning ones: their absence means none
        self._device_changed()   # mixed precision only where the device is CUDA, whatever the file said
        self.log_every.setValue(0 if config.get("auto_log", True) else int(config.get("log_every", 0)))
        self.stats_every.setValue(0 if config.get("auto_stats", True) else int(config.get("stats_every", 0)))
        source = config.get("init_from")
        if isinstance(source, str) and source:
            self.set_start_from(source, f"weights: {source}")
        else:
            self.start_from.setCurrentIndex(0)
        freeze = config.get("freeze")
        self.freeze_set.set_ids([str(n) for n in freeze] if isinstance(freeze, list) else [])
        mult = config.get("lr_mult")
        self.lr_mult.setText(", ".join(f"{k}={v:g}" for k, v in mult.items()
                                       if isinstance(v, (int, float))) if isinstance(mult, dict) else "")

    # -- reactions --------------------------------------------------------------------------------
    def _dataset_changed(self) -> None:
        on_disk = self.dataset.currentData() not in BUILT_IN
        self.path_row.setVisible(on_disk)
        self.dataset.setToolTip(DATASET_HELP.get(self.dataset.currentData(), ""))
        self.changed.emit()

    def _device_changed(self) -> None:
        try:
            cuda = resolve_device(self.device.currentData()).type == "cuda"
        except Exception:
            cuda = False
        self.amp.setEnabled(cuda)
        if not cuda:
            self.amp.setCurrentText("off")
        self.changed.emit()

    def _tensorboard_changed(self) -> None:
        self.tensorboard_row.setVisible(self.tensorboard.isChecked())
        self.tensorboardChanged.emit(self.tensorboard_dir())
        self.changed.emit()

    def _browse_tensorboard(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the TensorBoard logs", self.tensorboard_path.text())
        if folder:
            self.tensorboard_path.setText(folder)

    def _freeze_changed(self) -> None:
        self.frozen.setText(", ".join(self.freeze_set.ids()))
        self.changed.emit()

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from the weights in", "", WEIGHTS_FILES)
        if path:
            self.set_start_from(path, f"file: {path}")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Folder of the {self.dataset.currentText()} data",
                                                  self.path.text())
        if folder:
            self.path.setText(folder)


def _row(edit: QWidget, button: QPushButton) -> QWidget:
    """A path field with its Browse… button, as one form row."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    w = QWidget()
    w.setLayout(row)
    return w


def _interval(tip: str) -> QSpinBox:
    """Steps between samples, 0 = auto (from the run's length): the window's own choice."""
    s = QSpinBox()
    s.setRange(0, 100_000)
    s.setSpecialValueText("auto")
    s.setSuffix(" steps")
    s.setToolTip(tip)
    return s
