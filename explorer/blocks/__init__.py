"""Block types: primitives (Conv2d, Add, ...) and the residual family (basic, bottleneck, dense, ...).

Importing this package registers every block type in the graph's catalog.
"""
from explorer.blocks.base import BlockType, CompositeBlock, Cost
from explorer.blocks.registry import UnknownBlockError, all_blocks, discover, get_block, register, unregister

discover()

__all__ = ["BlockType", "CompositeBlock", "Cost", "UnknownBlockError", "all_blocks", "get_block", "register",
           "unregister"]
