"""Small utilities every layer may use (no Qt, no torch, nothing of the project above them)."""
