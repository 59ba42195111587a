"""Typo suggestions for the command line: which option, choice or command the user probably meant.

A prefix beats a spelling distance (``--opt`` means ``--optimizer``, not ``--out``); otherwise the closest
names by difflib. Used for every command's options and every ``choices=`` argument, so a new command gets
them without code of its own.
"""
from __future__ import annotations

import argparse
import difflib
import re

# argparse's own wording for a refused choice (Python 3.11 quotes the choices, 3.12+ may not)
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>[^']*)' \(choose from (?P<choices>.*)\)")


def closest(word: str, candidates: list[str], n: int = 3) -> list[str]:
    """The candidates ``word`` most likely meant: those it is a prefix of (shortest first), else the closest
    spellings; empty when nothing is near."""
    prefixed = sorted((c for c in candidates if c.startswith(word) and c != word), key=len)
    if prefixed and len(word.lstrip("-")) >= 2:
        return prefixed[:n]
    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option a parser accepts, in every argument group."""
    # argparse keeps its actions in a private list and offers no public way to enumerate the flags
    return [s for action in parser._actions for s in action.option_strings]


def unknown_options(tokens: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """The tokens that look like options but are none of ``parser``'s (``--opt=adam`` counts as ``--opt``)."""
    known = set(option_strings(parser))
    return [t for t in tokens if t.startswith("--") and len(t) > 2 and t.split("=", 1)[0] not in known]


def unknown_option(token: str, parser: argparse.ArgumentParser, command: str) -> str:
    """The message for an option ``command`` does not have, with the likeliest ones it does."""
    flag = token.split("=", 1)[0]
    close = closest(flag, option_strings(parser))
    hint = (f"; did you mean {' or '.join(close)}?" if close
            else f"; `python main.py {command} --help` lists them")
    return f"unknown option {flag}{hint}"


def with_choice_hint(message: str) -> str:
    """argparse's "invalid choice" message, with the choice the user probably meant added."""
    m = _INVALID_CHOICE.search(message)
    if not m:
        return message
    choices = [c.strip().strip("'\"") for c in m.group("choices").split(",")]
    close = closest(m.group("word"), choices, n=1)
    return f"{message}; did you mean {close[0]}?" if close else message
