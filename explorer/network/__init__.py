"""What a graph of blocks means as a network, above the block registry: shape inference, costs and
validation, and the rewrites that keep that meaning (open a block in place, split and collapse stages,
the plain twin, fitting the two ends to a data set). No Qt, no torch."""
