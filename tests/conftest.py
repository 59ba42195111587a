"""Shared test set-up: Qt runs off-screen, hypothesis keeps to this small machine."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
