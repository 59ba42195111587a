"""Collapse recognisable residual blocks into our block types, and runs of equal blocks into stages.

A candidate is found the cheap way (an Add of two inputs, the block ending in the ReLU that is the Add's
only consumer, or at the Add itself for pre-activation blocks; one of its inputs is the shortcut: the
block's input itself, a zero-pad of it, or a 1×1 conv (+ BatchNorm) of it or of its pre-activation
BN-ReLU), but it is accepted
only when the block type's own expansion for the guessed parameters matches the traced nodes exactly:
same types, same parameters, same edges, and nothing inside used from outside. So a collapsed block
computes what the code computed, and the weights of its parts keep their place (``sources`` is re-keyed).
The guesses come from the block types themselves (``CompositeBlock.recognise``): this module names none.
"""
from __future__ import annotations

import os

from explorer.blocks.recognise import ResidualSite
from explorer.blocks.registry import all_blocks, get_block
from explorer.graph.model import Graph
from explorer.graph.shapes import ShapeError
from explorer.importer.assemble import Assembled, NodeIds
from explorer.network.inference import analyze

_COMMUTATIVE = {"add", "multiply"}
_MAX_BRANCH = 16


def collapse(asm: Assembled) -> tuple[int, int]:
    """(blocks collapsed, stages formed)."""
    blocks = _collapse_blocks(asm)
    stages = _form_stages(asm) if blocks else 0
    return blocks, stages


# -- blocks ---------------------------------------------------------------------------------------------
def _collapse_blocks(asm: Assembled) -> int:
    g = asm.graph
    shapes = analyze(g)
    done = 0
    for add in g.topological_order():
        if add not in g or g.node(add).type != "add" or len(g.inputs_of(add)) != 2:
            continue
        after = g.outputs_of(add)
        relu = len(after) == 1 and g.node(after[0]).type == "activation" and g.node(after[0]).params["kind"] == "relu"
        exits = ((after[0], True),) if relu else ()
        found = _block_at(g, shapes, add, exits + ((add, False),))
        if found:
            _replace_block(asm, *found)
            shapes = analyze(g)  # cached per node: only the new block is computed
            done += 1
    return done


def _block_at(g: Graph, shapes, add: str, exits):
    """(entry, exit, type name, parameters, mapping) of the first block type whose expansion is exactly the
    region that ends at one of ``exits`` ((node, the exit is the ReLU after the Add)), else None."""
    a, b = g.inputs_of(add)
    for exit_, after_add in exits:
        for branch, skip in ((a, b), (b, a)):
            for entry, kind in _shortcut(g, skip):
                convs = _branch_convs(g, branch, entry)
                in_shape = shapes.nodes[entry].out_shape if entry in shapes.nodes else None
                if convs is None or in_shape is None:
                    continue
                found = _first_match(g, entry, exit_, in_shape,
                                     [c for k in kind for c in _candidates(convs, k, after_add)])
                if found:
                    return entry, exit_, *found
    return None


def _shortcut(g: Graph, skip: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each (block input, shortcut settings that may describe it) if ``skip`` is the skip path. A
    projection where the shape changes is also what "auto" gives, and "auto" lets the identity blocks after
    it join the same stage (as in torchvision's layers). A zero-pad or projection may see the block's input
    or its pre-activation BN-ReLU (pre-activation blocks): both are offered."""
    node = g.node(skip)
    srcs = g.inputs_of(skip)
    if node.type == "zeropad_shortcut" and len(srcs) == 1:
        return [(entry, ("zero_pad",)) for entry in _inputs_or_preactivated(g, srcs[0])]
    if node.type == "batchnorm" and len(srcs) == 1:
        conv = g.node(srcs[0])
        if conv.type == "conv2d" and conv.params["kernel_size"] == 1 and len(g.inputs_of(srcs[0])) == 1:
            return [(g.inputs_of(srcs[0])[0], ("auto", "projection"))]
    if node.type == "conv2d" and node.params["kernel_size"] == 1 and len(srcs) == 1:  # a projection without BN
        return [(entry, ("auto", "projection")) for entry in _inputs_or_preactivated(g, srcs[0])] + [
            (skip, ("auto",))]
    return [(skip, ("auto",))]


def _inputs_or_preactivated(g: Graph, x: str) -> list[str]:
    """``x``, and the input of the BN-ReLU that ``x`` is the output of, if it is one."""
    out = [x]
    node = g.node(x)
    if node.type == "activation" and len(g.inputs_of(x)) == 1:
        bn = g.inputs_of(x)[0]
        if g.node(bn).type == "batchnorm" and len(g.inputs_of(bn)) == 1:
            out.append(g.inputs_of(bn)[0])
    return out


def _branch_convs(g: Graph, branch: str, entry: str) -> list[dict] | None:
    """Parameters of the convolutions from ``entry`` to ``branch`` along a chain, first to last."""
    convs = []
    x = branch
    for _ in range(_MAX_BRANCH):
        if x == entry:
            return convs[::-1]
        srcs = g.inputs_of(x)
        if len(srcs) != 1:
            return None
        if g.node(x).type == "conv2d":
            convs.append(g.node(x).params)
        x = srcs[0]
    return None


def _candidates(convs: list[dict], kind: str, after_add: bool = True):
    """(type name, parameters) of every guess the registered block types make for this site."""
    site = ResidualSite(tuple(dict(c) for c in convs), kind, after_add)  # copies: a guess cannot change the graph
    for block in all_blocks():
        if block.composite:
            for params in block.recognise(site):
                yield block.name, params


def _first_match(g: Graph, entry: str, exit_: str, in_shape, candidates):
    for type_name, params in candidates:
        block = get_block(type_name)
        try:
            params = block.params.complete(type_name, params)
            expansion = block.expansion(params, tuple(in_shape))
        except (ShapeError, ValueError):
            continue
        mapping = match_expansion(g, entry, expansion.graph)
        if mapping is not None and mapping.get("__exit__") == exit_:
            return type_name, params, mapping
    return None


def match_expansion(g: Graph, entry: str, inside: Graph) -> dict[str, str] | None:
    """Map each node of ``inside`` (a block's expansion) onto a node of ``g`` starting from ``entry``;
    ``"__exit__"`` is the node that feeds the expansion's Output. None unless the match is exact and
    closed (no node inside the region feeds anything outside it, except the exit)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for e in inside.topological_order():
        node = inside.node(e)
        spec = inside.spec(e)
        if spec.role == "input":
            mapping[e] = entry
            continue
        srcs = [mapping[s] for s in inside.inputs_of(e)]
        if spec.role == "output":
            mapping["__exit__"] = srcs[0]
            continue
        hit = None
        for cand in g.outputs_of(srcs[0]):
            c = g.node(cand)
            if cand in used or c.type != node.type or c.params != node.params or c.repeat != 1:
                continue
            have = g.inputs_of(cand)
            if have == srcs or (node.type in _COMMUTATIVE and sorted(have) == sorted(srcs)):
                hit = cand
                break
        if hit is None:
            return None
        mapping[e] = hit
        used.add(hit)
    exit_ = mapping.get("__exit__")
    for nid in used - {exit_}:
        if any(s not in used for s in g.outputs_of(nid)):
            return None
    return mapping


def _rewire_out(g: Graph, old: str):
    return [e for s in g.outputs_of(old) for e in g.in_edges(s) if e.src == old]


def _replace_block(asm: Assembled, entry: str, exit_: str, type_name: str, params: dict, mapping: dict) -> None:
    g = asm.graph
    inner = {e: gid for e, gid in mapping.items() if gid != entry and e != "__exit__"}
    targets = [asm.sources[f"nodes.{gid}"] for gid in inner.values() if f"nodes.{gid}" in asm.sources]
    outs = _rewire_out(g, exit_)
    shape = asm.traced_shapes.get(exit_)
    for gid in inner.values():
        g.remove_node(gid)
    nid = g.add_node(type_name, params, node_id=NodeIds(g).make(_common_prefix(targets) or f"{type_name}_block"))
    g.connect(entry, nid, 0, check_cycle=False)
    for e in outs:
        g.connect(nid, e.dst, e.order, check_cycle=False)
    for e, gid in inner.items():
        src = asm.sources.pop(f"nodes.{gid}", None)
        if src is not None:
            asm.sources[f"nodes.{nid}.nodes.{e}"] = src
    if shape is not None:
        asm.traced_shapes[nid] = shape


def _common_prefix(targets: list[str]) -> str:
    if not targets:
        return ""
    parts = os.path.commonprefix([t.split(".") for t in targets])
    return ".".join(parts)


# -- stages ---------------------------------------------------------------------------------------------
def _form_stages(asm: Assembled) -> int:
    g = asm.graph
    shapes = analyze(g)
    formed = 0
    for first in g.topological_order():
        if first not in g or not g.spec(first).repeatable or g.node(first).repeat != 1:
            continue
        chain = [first]
        while True:
            nxt = g.outputs_of(chain[-1])
            if len(nxt) != 1 or not _continues(g, shapes, chain, nxt[0]):
                break
            chain.append(nxt[0])
        if len(chain) > 1:
            _replace_stage(asm, chain)
            formed += 1
    return formed


def _continues(g: Graph, shapes, chain: list[str], nid: str) -> bool:
    head, node = g.node(chain[0]), g.node(nid)
    if node.type != head.type or node.repeat != 1 or g.inputs_of(nid) != [chain[-1]]:
        return False
    block = g.spec(nid)
    in_shape = shapes.nodes[nid].in_shapes[0] if shapes.nodes[nid].in_shapes else None
    if in_shape is None:
        return False
    try:
        want = block.expansion(block.repeat_params(head.params, len(chain)), tuple(in_shape)).graph
        have = block.expansion(node.params, tuple(in_shape)).graph
    except (ShapeError, ValueError):
        return False
    return want.same_as(have)


def _replace_stage(asm: Assembled, chain: list[str]) -> None:
    g = asm.graph
    head = g.node(chain[0])
    (entry,) = g.inputs_of(chain[0])
    outs = _rewire_out(g, chain[-1])
    moved = {}
    for i, nid in enumerate(chain):
        for key in [k for k in asm.sources if k.startswith(f"nodes.{nid}.")]:
            moved[(i, key[len(f'nodes.{nid}.'):])] = asm.sources.pop(key)
    shape = asm.traced_shapes.get(chain[-1])
    for nid in chain:
        g.remove_node(nid)
    prefix = _common_prefix(list(moved.values()))
    sid = g.add_node(head.type, head.params, node_id=NodeIds(g).make(prefix or chain[0]), repeat=len(chain))
    g.connect(entry, sid, 0, check_cycle=False)
    for e in outs:
        g.connect(sid, e.dst, e.order, check_cycle=False)
    for (i, rest), src in moved.items():
        asm.sources[f"nodes.{sid}.{i}.{rest}"] = src
    if shape is not None:
        asm.traced_shapes[sid] = shape
