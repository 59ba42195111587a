"""What explains residual networks: gradient flow vs depth, lesion study, loss landscape."""
