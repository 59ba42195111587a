"""Block types: primitives (Conv2d, Add, ...) and the residual family (basic, bottleneck, dense, ...)."""
from explorer.blocks.base import BlockType, CompositeBlock, Cost
from explorer.blocks.registry import UnknownBlockError, all_blocks, get_block, register

__all__ = ["BlockType", "CompositeBlock", "Cost", "UnknownBlockError", "all_blocks", "get_block", "register"]
