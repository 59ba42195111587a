"""The training form and `train --help` come from one table (explorer.train.fields): every setting in it has
the same type, choices, help and default in both, and every value the form can hold is one TrainConfig
accepts, so the two cannot drift apart."""
from __future__ import annotations

import argparse

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from explorer.cli import build_parser
from explorer.train import TrainConfig
from explorer.train.fields import FIELDS
from explorer.ui.form_fields import value


@pytest.fixture(scope="module")
def train_options():
    _parser, _module, sub = build_parser("train", ["train"])
    return {a.dest: a for a in sub._actions if a.option_strings}


@pytest.fixture
def form(qtbot):
    from explorer.ui.training.settings_form import SettingsForm

    f = SettingsForm()
    qtbot.addWidget(f)
    return f


def test_every_field_is_an_option_of_train_with_its_type_choices_and_help(train_options):
    for f in FIELDS.values():
        opt = train_options[f.name]
        assert opt.option_strings == [f.flag] and opt.default is None   # unset: the config's default
        assert opt.help == f.cli_help() and opt.help.startswith(f.help)
        if f.kind is bool:
            assert isinstance(opt, argparse._StoreConstAction) and opt.const is True
        else:
            assert tuple(opt.choices or ()) == f.choices
            assert opt.type is (None if f.kind is str else f.kind)


def test_every_field_is_a_widget_of_the_form_with_the_same_help_range_and_default(form):
    kinds = {bool: QCheckBox, int: QSpinBox, float: QDoubleSpinBox}
    for f in FIELDS.values():
        w = form.fields[f.name]
        assert getattr(form, f.name) is w and w.toolTip() == f.tooltip()
        assert isinstance(w, QComboBox if f.choices or f.name == "device" else kinds[f.kind])
        if f.choices:
            assert tuple(w.itemText(i) for i in range(w.count())) == f.choices
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            assert (w.minimum(), w.maximum()) == (f.lo, f.hi)
        shown = value(w)
        assert shown == f.form_default or (f.name == "train_samples" and shown == 0)   # 0 = all


def test_the_form_starts_on_the_table_defaults_and_every_value_it_offers_is_valid(form):
    cfg = form.config()
    for f in FIELDS.values():
        assert getattr(cfg, f.name) == f.form_default
    for f in FIELDS.values():   # each end of each range passes TrainConfig's own check
        for end in (f.lo, f.hi) if f.lo is not None else ():
            v = f.kind(end)
            if f.name == "train_samples" and v == 0:
                v = None   # the form's 0 means all samples
            changes = {f.name: v, "freeze": ["stem"]} if f.name == "unfreeze_at" and v else {f.name: v}
            TrainConfig(**changes).check()
