"""The residual block family: each module is one composite block type defined by its expansion."""
