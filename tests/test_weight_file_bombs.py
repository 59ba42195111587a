"""Weight files are untrusted (issue 17 items 6-7): an archive whose directory declares more than the
preset's tensors could fill (one huge deflated record, many records, a huge pickle) is refused before
anything is inflated; a pre-zip file is refused with the fix; a tensor that is not dense and real
(sparse, complex, quantized, meta) is refused naming its key, also inside a wrapping checkpoint."""
import io
import warnings
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer.cli import main
from explorer.importer import ImporterError, import_weights
from explorer.train import state_file
from explorer.train.init_from import InitError, initialise

MiB = 1 << 20


@pytest.fixture(scope="module")
def resnet20_state():
    from explorer.arch import load_arch
    from explorer.compile import compile_graph

    torch.manual_seed(0)
    return compile_graph(load_arch("resnet20")).state_dict()


def _archive(state) -> dict[str, bytes]:
    buf = io.BytesIO()
    torch.save(state, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _write(path, records: dict[str, bytes], deflated=()):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in records.items():
            z.writestr(name, data, zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED)
    return path


@pytest.fixture
def no_inflating(monkeypatch):
    """torch.load must never be reached for a bomb: the refusal comes from the zip directory alone."""
    def refuse(*a, **k):
        raise AssertionError("torch.load was called: the file was inflated before its sizes were checked")
    monkeypatch.setattr(state_file.torch, "load", refuse)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["one record", "many records", "pickle"]), mib=st.integers(4, 12), data=st.data())
def test_a_bomb_is_refused_from_its_directory_before_anything_is_inflated(kind, mib, data, resnet20_state,
                                                                          tmp_path_factory, no_inflating):
    records = _archive(resnet20_state)
    prefix = next(iter(records)).split("/")[0]
    tensors = sorted(n for n in records if "/data/" in n)
    if kind == "one record":
        target = data.draw(st.sampled_from(tensors))
        records[target] = bytes(mib * MiB)
        deflated, words = {target}, target
    elif kind == "many records":
        deflated = set(tensors[:mib])
        for name in deflated:
            records[name] = bytes(MiB)  # each below the largest tensor's cap, together far above the network
        words = "together"
    else:
        records[f"{prefix}/data.pkl"] = bytes(mib * MiB)
        deflated, words = {f"{prefix}/data.pkl"}, "pickle"
    path = _write(tmp_path_factory.mktemp("bomb") / "bomb.pth", records, deflated)
    assert path.stat().st_size < MiB // 2 + 2 * MiB  # a small file that declares megabytes
    with pytest.raises(ImporterError, match="refused|together") as e:
        import_weights("resnet20", path, tmp_path_factory.mktemp("out") / "run")
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_bomb_in_init_from_is_refused_too(resnet20_state, tmp_path, no_inflating):
    from explorer.arch import load_arch
    from explorer.compile import compile_graph

    records = _archive(resnet20_state)
    target = sorted(n for n in records if "/data/" in n)[0]
    records[target] = bytes(64 * MiB)
    path = _write(tmp_path / "bomb.pt", records, {target})
    with pytest.raises(InitError, match="refused before inflating"):
        initialise(compile_graph(load_arch("resnet20")), str(path))


def test_a_file_in_the_old_pre_zip_format_is_refused_with_the_fix(resnet20_state, tmp_path, capsys):
    path = tmp_path / "old.pth"
    torch.save(resnet20_state, path, _use_new_zipfile_serialization=False)
    assert main(["import-weights", "resnet20", str(path), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "save it again" in err


def _odd(t: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "sparse":
        return t.to_sparse()
    if kind == "sparse csr":
        return t.reshape(t.shape[0], -1).to_sparse_csr()
    if kind == "complex":
        return torch.complex(t, torch.ones_like(t))
    if kind == "quantized":
        return torch.quantize_per_tensor(t.float(), 0.1, 0, torch.qint8)
    raise AssertionError(kind)


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["sparse", "sparse csr", "complex", "quantized"]), wrapper=st.sampled_from(
    [None, "state_dict", "model"]), data=st.data())
def test_a_tensor_that_is_not_dense_and_real_is_refused_naming_its_key(kind, wrapper, data, resnet20_state,
                                                                       tmp_path_factory, capsys):
    state = dict(resnet20_state)
    keys = [k for k, v in state.items() if v.dim() >= 2 and v.is_floating_point()]
    key = data.draw(st.sampled_from(keys))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own warnings while building the odd tensor
        state[key] = _odd(state[key], kind)
    folder = tmp_path_factory.mktemp("odd")
    path = folder / "odd.pth"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 3}, path)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw torch warning reaches the user
        assert main(["import-weights", "resnet20", str(path), "-o", str(folder / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and repr(key) in err
    assert kind.split()[0] in err and not (folder / "run").exists()
