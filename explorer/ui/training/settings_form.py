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
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QPushButton, QSpinBox, QWidget)

from explorer.data import DATASET_HELP
from explorer.data.registry import parse_spec
from explorer.train import AMP_MODES, OPTIMIZERS, SCHEDULES, ConfigError, TrainConfig
from explorer.train.device import available_devices, resolve_device
from explorer.train.tensorboard_log import missing as tensorboard_missing
from explorer.ui.training.freeze_set import FreezeSet

BUILT_IN = ("digits", "shapes")
ON_DISK = (("cifar10", "CIFAR-10 (folder)…"), ("mnist", "MNIST (folder)…"),
           ("fashion-mnist", "Fashion-MNIST (folder)…"), ("folder", "Image folder…"))
SCRATCH = "random weights (from scratch)"
WEIGHTS_FILES = "Weights (*.pt *.pth *.ckpt);;All files (*)"
GUI_DEFAULTS = dict(epochs=3, batch_size=64, lr=0.05, optimizer="sgd", schedule="cosine", weight_decay=5e-4, seed=0)


class SettingsForm(QWidget):
    changed = Signal()
    tensorboardChanged = Signal(str)   # the folder runs log to; "" when TensorBoard logs are off

    def __init__(self, parent: QWidget | None = None, freeze: FreezeSet | None = None):
        super().__init__(parent)
        self.freeze_set = freeze if freeze is not None else FreezeSet(self)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.dataset = QComboBox()
        for name in BUILT_IN:
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, DATASET_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        for name, label in ON_DISK:
            self.dataset.addItem(label, name)
            self.dataset.setItemData(self.dataset.count() - 1, DATASET_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.path = QLineEdit()
        self.path.setPlaceholderText("folder of the data set")
        self.browse = QPushButton("Browse…")
        self.path_row = _row(self.path, self.browse)
        form.addRow("Data", self.dataset)
        form.addRow("", self.path_row)

        self.epochs = _spin(1, 10_000, GUI_DEFAULTS["epochs"])
        self.batch_size = _spin(1, 65_536, GUI_DEFAULTS["batch_size"])
        self.optimizer = _combo(OPTIMIZERS, GUI_DEFAULTS["optimizer"])
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 10.0)
        self.lr.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr.setValue(GUI_DEFAULTS["lr"])
        self.schedule = _combo(SCHEDULES, GUI_DEFAULTS["schedule"])
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setDecimals(5)
        self.weight_decay.setRange(0.0, 1.0)
        self.weight_decay.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.weight_decay.setValue(GUI_DEFAULTS["weight_decay"])
        self.device = QComboBox()
        auto = resolve_device("auto").type
        self.device.addItem(f"auto ({auto})", "auto")
        for d in available_devices():
            self.device.addItem(d, d)
        self.amp = _combo(AMP_MODES, "off")
        self.amp.setToolTip("Mixed precision: only on CUDA")
        self.seed = _spin(0, 2**31 - 1, GUI_DEFAULTS["seed"])
        self.log_every = _spin(0, 100_000, 0)
        self.log_every.setSpecialValueText("auto")
        self.log_every.setSuffix(" steps")
        self.log_every.setToolTip("Steps between loss points (auto: about 400 points per run)")
        self.stats_every = _spin(0, 100_000, 0)
        self.stats_every.setSpecialValueText("auto")
        self.stats_every.setSuffix(" steps")
        self.stats_every.setToolTip("Steps between per-layer gradient samples (auto: about 300 per run)")
        for label, w in (("Epochs", self.epochs), ("Batch size", self.batch_size), ("Optimizer", self.optimizer),
                         ("Learning rate", self.lr), ("Schedule", self.schedule), ("Weight decay", self.weight_decay),
                         ("Device", self.device), ("Mixed precision", self.amp), ("Seed", self.seed),
                         ("Log every", self.log_every), ("Gradients every", self.stats_every)):
            form.addRow(label, w)
        self.compile = QCheckBox("Compile (torch.compile)")
        self.compile.setToolTip("Compile the network before training: faster steps after a minute or two of "
                                "compiling (shown as its own phase); gradient-sample steps run uncompiled, and a "
                                "failure falls back to uncompiled training with a warning")
        form.addRow(self.compile)
        self.compile.toggled.connect(self.changed)
        self.tensorboard = QCheckBox("TensorBoard logs")
        self.tensorboard.setToolTip("Write each run's loss, accuracy, learning rate and per-layer gradient norms as "
                                    "TensorBoard event files, one sub-folder per run: tensorboard --logdir FOLDER")
        self.tensorboard_path = QLineEdit()
        self.tensorboard_path.setPlaceholderText("folder for the TensorBoard logs")
        self.tensorboard_browse = QPushButton("Browse…")
        self.tensorboard_row = _row(self.tensorboard_path, self.tensorboard_browse)
        form.addRow(self.tensorboard)
        form.addRow("", self.tensorboard_row)
        self._build_fine_tuning(form)

        self.dataset.currentIndexChanged.connect(self._dataset_changed)
        self.device.currentIndexChanged.connect(self._device_changed)
        self.browse.clicked.connect(self._browse)
        for w in (self.epochs, self.batch_size, self.seed, self.log_every, self.stats_every):
            w.valueChanged.connect(self.changed)
        for w in (self.lr, self.weight_decay):
            w.valueChanged.connect(self.changed)
        for w in (self.optimizer, self.schedule, self.amp):
            w.currentIndexChanged.connect(self.changed)
        self.path.textChanged.connect(self.changed)
        self.tensorboard.toggled.connect(self._tensorboard_changed)
        self.tensorboard_path.textChanged.connect(self._tensorboard_changed)
        self.tensorboard_browse.clicked.connect(self._browse_tensorboard)
        self.tensorboard_row.setVisible(False)
        self._dataset_changed()
        self._device_changed()

    def _build_fine_tuning(self, form: QFormLayout) -> None:
        self.start_from = QComboBox()
        self.start_from.addItem(SCRATCH, None)
        for combo in self.findChildren(QComboBox):   # a long entry ("run: resnet56 #2 fine-tuned…") never widens
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.start_from.setToolTip("The weights a run starts from: fine-tuning loads what fits by node id and "
                                   "shape, and re-initialises the rest (a new classifier)")
        self.start_file = QPushButton("File…")
        self.start_file.setToolTip("Start from a checkpoint or a .pth state_dict")
        form.addRow("Start from", _row(self.start_from, self.start_file))
        self.frozen = QLineEdit()
        self.frozen.setObjectName("frozen")
        self.frozen.setPlaceholderText("none: right-click a node ▸ Freeze for Training")
        self.frozen.setToolTip("Node or stage ids kept fixed while training, comma-separated; until:NODE "
                               "freezes everything up to NODE")
        self.unfreeze_at = _spin(0, 10_000, 0)
        self.unfreeze_at.setSpecialValueText("never")
        self.unfreeze_at.setPrefix("epoch ")
        self.unfreeze_at.setToolTip("From this epoch on the frozen nodes train too (2 or later)")
        self.lr_mult = QLineEdit()
        self.lr_mult.setObjectName("lr_mult")
        self.lr_mult.setPlaceholderText("e.g. stage1=0.1, stage2=0.5")
        self.lr_mult.setToolTip("Learning-rate multipliers per node or stage: NODE=FACTOR, comma-separated")
        self.train_samples = _spin(0, 100_000_000, 0)
        self.train_samples.setSpecialValueText("all")
        self.train_samples.setToolTip("Train on a stratified subset of this many samples (the small-data case)")
        for label, w in (("Frozen", self.frozen), ("Unfreeze at", self.unfreeze_at),
                         ("LR multipliers", self.lr_mult), ("Train samples", self.train_samples)):
            form.addRow(label, w)
        self.start_from.currentIndexChanged.connect(self.changed)
        self.start_file.clicked.connect(self._browse_weights)
        self.frozen.editingFinished.connect(lambda: self.freeze_set.set_ids(self.frozen.text().split(",")))
        self.freeze_set.changed.connect(self._freeze_changed)
        self.lr_mult.textChanged.connect(self.changed)
        for w in (self.unfreeze_at, self.train_samples):
            w.valueChanged.connect(self.changed)

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
        return TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                           optimizer=self.optimizer.currentText(), lr=self.lr.value(),
                           schedule=self.schedule.currentText(), weight_decay=self.weight_decay.value(),
                           device=self.device.currentData(),
                           amp=self.amp.currentText() if self.amp.isEnabled() else "off",
                           compile=self.compile.isChecked(),
                           seed=self.seed.value(), log_every=self.log_every.value() or 10,
                           stats_every=self.stats_every.value() or 10, init_from=self.init_from(),
                           freeze=self.freeze_set.ids(), unfreeze_at=self.unfreeze_at.value(),
                           lr_mult=self._lr_mult_or_empty(), train_samples=self.train_samples.value() or None)

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
        for key, w in (("epochs", self.epochs), ("batch_size", self.batch_size), ("seed", self.seed)):
            if isinstance(config.get(key), int):
                w.setValue(config[key])
        for key, w in (("lr", self.lr), ("weight_decay", self.weight_decay)):
            if isinstance(config.get(key), (int, float)):
                w.setValue(float(config[key]))
        for key, w in (("optimizer", self.optimizer), ("schedule", self.schedule), ("amp", self.amp)):
            if w.findText(str(config.get(key))) >= 0:
                w.setCurrentText(str(config[key]))
        i = self.device.findData(config.get("device"))
        if i >= 0:
            self.device.setCurrentIndex(i)
        self.compile.setChecked(config.get("compile") is True)
        self.log_every.setValue(0 if config.get("auto_log", True) else int(config.get("log_every", 0)))
        self.stats_every.setValue(0 if config.get("auto_stats", True) else int(config.get("stats_every", 0)))
        source = config.get("init_from")
        if isinstance(source, str) and source:
            self.set_start_from(source, f"weights: {source}")
        else:
            self.start_from.setCurrentIndex(0)
        freeze = config.get("freeze")
        self.freeze_set.set_ids([str(n) for n in freeze] if isinstance(freeze, list) else [])
        unfreeze = config.get("unfreeze_at")
        self.unfreeze_at.setValue(unfreeze if isinstance(unfreeze, int) and not isinstance(unfreeze, bool) else 0)
        mult = config.get("lr_mult")
        self.lr_mult.setText(", ".join(f"{k}={v:g}" for k, v in mult.items()
                                       if isinstance(v, (int, float))) if isinstance(mult, dict) else "")
        samples = config.get("train_samples")
        self.train_samples.setValue(samples if isinstance(samples, int) and not isinstance(samples, bool) else 0)

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


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s


def _combo(items, current: str) -> QComboBox:
    c = QComboBox()
    c.addItems(list(items))
    c.setCurrentText(current)
    return c
