"""Primitive layers: each maps to one torch operation."""
