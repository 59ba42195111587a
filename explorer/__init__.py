"""Residual Explorer: build residual networks as graphs, see their shapes and costs, train them."""

__version__ = "0.1.0"
