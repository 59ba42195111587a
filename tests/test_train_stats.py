"""Per-layer statistics equal a slow reference computed parameter by parameter."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.compile import compile_graph, layer_units
from explorer.train import LayerStatsReport, TrainConfig, run_training
from explorer.train.optim import build_optimizer, lr_factor
from explorer.train.stats import LayerStats
from explorer.train.testing import random_dataset, tiny_graph


def reference(model, units, x, y, opt, clip=0.0):
    """One step, measured the slow way: per-parameter vector norms, outputs kept with retain_grad."""
    params = dict(model.named_parameters())
    outputs = {}
    handles = [u.module.register_forward_hook(lambda m, i, o, k=u.key: outputs.__setitem__(k, o)) for u in units]
    loss = F.cross_entropy(model(x), y)
    for o in outputs.values():
        o.retain_grad()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for h in handles:
        h.remove()
    if clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    before = {n: p.detach().clone() for n, p in params.items()}
    # The gradients as the step receives them: foreach SGD with Nesterov momentum adds the momentum into them.
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    opt.step()
    rows = {"grad_norm": [], "weight_norm": [], "update_ratio": [], "output_grad_norm": []}
    for u in units:
        g = sum(torch.linalg.vector_norm(grads[n]).item() ** 2 for n in u.param_names) ** 0.5
        w = sum(torch.linalg.vector_norm(before[n]).item() ** 2 for n in u.param_names) ** 0.5
        d = sum(torch.linalg.vector_norm(params[n].detach() - before[n]).item() ** 2 for n in u.param_names) ** 0.5
        rows["grad_norm"].append(g)
        rows["weight_norm"].append(w)
        rows["update_ratio"].append(d / w)
        rows["output_grad_norm"].append(torch.linalg.vector_norm(outputs[u.key].grad).item())
    return {k: np.array(v) for k, v in rows.items()}


def fast(model, units, x, y, opt, clip=0.0):
    stats = LayerStats(model, units, torch.device("cpu"))
    stats.arm()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    stats.disarm()
    if clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    stats.before_step()
    opt.step()
    return stats.arrays(stats.after_step())


@pytest.mark.parametrize("optimizer, clip, block", [("sgd", 0.0, "basic"), ("adamw", 0.5, "plain"),
                                                    ("adam", 0.0, "bottleneck")])
def test_layer_stats_equal_the_slow_reference(optimizer, clip, block):
    g = tiny_graph(blocks=3, block=block) if block != "bottleneck" else _bottleneck_graph()
    data = random_dataset(64, 8)
    x, y = data.x_train[:32], data.y_train[:32]
    cfg = TrainConfig(optimizer=optimizer, lr=0.05, weight_decay=1e-3)
    results = []
    for fn in (reference, fast):
        torch.manual_seed(0)
        model = compile_graph(g).train()
        units = layer_units(model)
        results.append(fn(model, units, x, y, build_optimizer(model, cfg), clip))
    ref, got = results
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=2e-5, atol=1e-9, err_msg=key)
    assert (ref["update_ratio"] > 0).all()


def test_engine_reports_the_statistics_of_its_first_step():
    """End to end: the engine's first LayerStatsReport matches the reference step replayed by hand."""
    g = tiny_graph(blocks=2)
    data = random_dataset(96, 16)
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.1, stats_every=1, log_every=1, seed=5, warmup_epochs=0,
                      schedule="constant")
    first = next(r for r in run_training(g, data, cfg) if isinstance(r, LayerStatsReport))
    torch.manual_seed(5)
    model = compile_graph(g).train()
    gen = torch.Generator().manual_seed(5)
    idx = torch.randperm(96, generator=gen)[:32]
    opt = build_optimizer(model, cfg)
    for group in opt.param_groups:
        group["lr"] = cfg.lr * lr_factor(0, 3, 3, cfg)
    ref = reference(model, layer_units(model), data.x_train[idx], data.y_train[idx], opt)
    assert first.step == 1 and first.keys == [u.key for u in layer_units(model)]
    for key in ref:
        np.testing.assert_allclose(getattr(first, key), ref[key], rtol=2e-5, err_msg=key)


def test_gradient_reaching_the_blocks_changes_by_orders_of_magnitude_with_depth_in_a_plain_net():
    """The statistic the window plots by depth. At initialisation a deep plain BatchNorm stack passes a
    gradient to its first block hundreds of times larger than to its last (it explodes toward the input);
    through identity shortcuts the gradient changes far less."""
    data = random_dataset(64, 8)
    x, y = data.x_train, data.y_train
    spread = {}
    for block in ("plain", "basic"):
        torch.manual_seed(0)
        model = compile_graph(tiny_graph(blocks=20, block=block)).train()
        units = layer_units(model)
        out = fast(model, units, x, y, torch.optim.SGD(model.parameters(), lr=0.0))
        blocks = out["output_grad_norm"][[i for i, u in enumerate(units) if u.node_id == "stage1"]]
        spread[block] = blocks[0] / blocks[-1]
    assert spread["plain"] > 10 * spread["basic"]


def _bottleneck_graph():
    from explorer.blocks.builder import Builder
    b = Builder("bneck")
    x = b.input([1, 8, 8])
    y = b.conv(x, 16, node_id="stem_conv")
    y = b.add("bottleneck", y, node_id="stage1", width=4, out_channels=16, repeat=2)
    y = b.add("global_avgpool", y, node_id="pool")
    y = b.add("flatten", y, node_id="flatten")
    b.output(b.add("linear", y, node_id="classifier", out_features=4))
    return b.finish().graph


def test_output_hooks_stay_between_samples_and_are_switched_off():
    """Registered once and switched by a flag: a step between samples measures nothing, the next sample does."""
    torch.manual_seed(0)
    model = compile_graph(tiny_graph(blocks=2)).train()
    units = layer_units(model)
    data = random_dataset(32, 8)
    x, y = data.x_train, data.y_train
    stats = LayerStats(model, units, torch.device("cpu"))

    def step(armed):
        if armed:
            stats.arm()
        F.cross_entropy(model(x), y).backward()
        stats.pause()
        stats.before_step()
        return stats.arrays(stats.after_step())["output_grad_norm"]

    assert np.isfinite(step(True)).all()
    assert np.isnan(step(False)).all()  # the hooks ran, switched off
    assert np.isfinite(step(True)).all()
    stats.disarm()
    assert np.isnan(step(False)).all()


def test_a_frozen_unit_and_channels_last_weights_give_the_same_statistics():
    """The flat copies: a frozen unit (no gradient) reads zero gradient and zero update, and weights and
    gradients in channels-last memory (not one contiguous stretch each) give the numbers of the usual layout."""
    data = random_dataset(64, 8)
    x, y = data.x_train[:32], data.y_train[:32]
    results = []
    for channels_last in (False, True):
        torch.manual_seed(0)
        model = compile_graph(tiny_graph(blocks=3)).train()
        units = layer_units(model)
        for p in units[0].module.parameters():
            p.requires_grad_(False)
        xin = x
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            xin = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
        results.append(fast(model, units, xin, y, opt))
    usual, cl = results
    assert usual["grad_norm"][0] == 0 and usual["update_ratio"][0] == 0 and usual["weight_norm"][0] > 0
    assert (usual["grad_norm"][1:] > 0).all() and (usual["update_ratio"][1:] > 0).all()
    for key in usual:
        np.testing.assert_allclose(cl[key], usual[key], rtol=1e-4, err_msg=key)


def test_statistics_follow_weights_whose_storage_is_replaced_after_binding():
    """LayerStats lays the parameters out in one buffer (values and Parameter objects kept). A later
    replacement of their storage (what ``model.to(...)`` does) is noticed: the next sample reads the new
    weights, and a step on them matches the slow reference."""
    data = random_dataset(64, 8)
    x, y = data.x_train[:32], data.y_train[:32]
    torch.manual_seed(0)
    model = compile_graph(tiny_graph(blocks=2)).train()
    units = layer_units(model)
    params = list(model.parameters())
    values = [p.detach().clone() for p in params]
    stats = LayerStats(model, units, torch.device("cpu"))
    assert [p is q for p, q in zip(model.parameters(), params)] == [True] * len(params)
    for p, v in zip(params, values):
        assert torch.equal(p.detach(), v)
    with torch.no_grad():
        for p in params:
            p.data = p.data.clone() * 2
    twin = compile_graph(tiny_graph(blocks=2)).train()
    twin.load_state_dict(model.state_dict())
    opt, twin_opt = (torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (model, twin))
    stats.arm()
    F.cross_entropy(model(x), y).backward()
    stats.disarm()
    stats.before_step()
    opt.step()
    got = stats.arrays(stats.after_step())
    ref = reference(twin, layer_units(twin), x, y, twin_opt)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=2e-5, err_msg=key)
