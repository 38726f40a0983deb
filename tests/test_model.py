import pytest
import torch

from tbfl.model import CRNN, GLU, CRNNConfig

SMALL = dict(filters=(8, 8, 16, 16, 16, 16, 16), rnn_hidden=16)


def n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def sharpen(model: CRNN) -> CRNN:
    """Large head weights, so an untrained model's frame outputs and attention vary over time."""
    with torch.no_grad():
        for head in (model.strong_head, model.attention_head):
            if head is not None:
                head.weight.normal_(0.0, 3.0)
    return model


def features(batch=2, n_mels=128, n_frames=64, seed=0, dtype=torch.float32):
    return torch.rand(batch, n_mels, n_frames, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_baseline_shapes_626_frames_to_156():
    torch.manual_seed(0)
    model = CRNN().eval()
    with torch.no_grad():
        out = model(features(n_frames=626))
    assert out.strong_logits.shape == out.strong_probs.shape == out.attention.shape == (2, 10, 156)
    assert out.weak_probs.shape == (2, 10)
    assert model.config.time_pooling == 4 and model.config.n_freq_out == 1


def test_baseline_parameter_count():
    # conv 539,904 + batchnorm 1,248 + GLU linears 71,536 + BiGRU 494,592 + two heads 5,140
    count = n_parameters(CRNN())
    assert count == 1_112_420
    assert 1_000_000 <= count <= 1_200_000


def test_smaller_config_is_one_change_and_has_fewer_parameters():
    small = CRNN(filters=[16, 32, 32, 64, 64, 64, 64], rnn_hidden=64)
    assert n_parameters(small) == 290_020 < n_parameters(CRNN())
    # YAML lists are accepted and normalised to tuples
    assert small.config == CRNNConfig(filters=(16, 32, 32, 64, 64, 64, 64), rnn_hidden=64)
    assert CRNNConfig(pooling=[[2, 2]] * 2 + [[1, 2]] * 5) == CRNNConfig()


@pytest.mark.parametrize("softmax_axis", ["time", "classes"])
def test_weak_is_attention_weighted_mean_of_strong(softmax_axis):
    torch.manual_seed(1)
    model = sharpen(CRNN(**SMALL, attention_softmax=softmax_axis)).eval()
    with torch.no_grad():
        out = model(features(batch=3))
    assert torch.allclose(out.attention.sum(dim=2), torch.ones(3, 10), atol=1e-6)
    assert (out.attention > 0).all()
    expected = (out.strong_probs * out.attention).sum(dim=2)
    assert torch.allclose(out.weak_probs, expected, atol=1e-6)
    assert ((out.weak_probs > 0) & (out.weak_probs < 1)).all()
    assert torch.allclose(out.strong_probs, torch.sigmoid(out.strong_logits))
    assert (out.strong_probs.amax(dim=2) - out.strong_probs.amin(dim=2)).mean() > 0.1  # not a trivial case
    # a weighted mean lies between the frame extremes
    assert (out.weak_probs >= out.strong_probs.amin(dim=2) - 1e-6).all()
    assert (out.weak_probs <= out.strong_probs.amax(dim=2) + 1e-6).all()


def test_time_softmax_is_a_softmax_over_frames_and_class_softmax_differs():
    torch.manual_seed(2)
    model = sharpen(CRNN(**SMALL)).eval()
    x = features()
    with torch.no_grad():
        rnn_out, _ = model.rnn(model.cnn(x.transpose(1, 2).unsqueeze(1)).squeeze(-1).transpose(1, 2))
        scores = model.attention_head(rnn_out)  # (B, T, C)
        out = model(x)
        model.config = CRNNConfig(**SMALL, attention_softmax="classes")
        out_classes = model(x)
    assert torch.allclose(out.attention, torch.softmax(scores, dim=1).transpose(1, 2), atol=1e-6)
    baseline_weights = torch.softmax(scores, dim=2).clamp(min=1e-7)
    baseline_weak = (out.strong_probs.transpose(1, 2) * baseline_weights).sum(1) / baseline_weights.sum(1)
    assert torch.allclose(out_classes.weak_probs, baseline_weak, atol=1e-6)
    assert not torch.allclose(out_classes.weak_probs, out.weak_probs, atol=1e-4)


def test_without_attention_weak_is_the_mean_over_time():
    model = sharpen(CRNN(**SMALL, attention=False)).eval()
    assert model.attention_head is None
    with torch.no_grad():
        out = model(features())
    assert torch.allclose(out.weak_probs, out.strong_probs.mean(dim=2), atol=1e-6)


def test_glu_is_linear_times_sigmoid_of_input():
    torch.manual_seed(3)
    glu = GLU(4)
    x = torch.randn(2, 4, 5, 3)
    manual = torch.einsum("oc,bctf->botf", glu.linear.weight, x) + glu.linear.bias[None, :, None, None]
    assert torch.allclose(glu(x), manual * torch.sigmoid(x), atol=1e-6)


def test_baseline_batchnorm_and_dropout_settings():
    model = CRNN()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    dropouts = [m.p for m in model.cnn.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(norms) == 7 and all(m.eps == 1e-3 and m.momentum == 0.99 for m in norms)
    assert dropouts == [0.5] * 7 and model.dropout.p == 0.5
    assert model.rnn.num_layers == 2 and model.rnn.hidden_size == 128 and model.rnn.bidirectional
    assert model.rnn.dropout == 0.0


def test_unpooled_frequency_bands_feed_the_rnn():
    model = CRNN(filters=(8, 8, 8), pooling=((2, 2), (2, 4), (1, 4)), rnn_hidden=8, n_mels=64).eval()
    assert model.config.n_freq_out == 2 and model.rnn.input_size == 16
    with torch.no_grad():
        out = model(features(n_mels=64, n_frames=40))
    assert out.strong_probs.shape == (2, 10, 10)


def test_dropout_only_in_training_mode():
    torch.manual_seed(4)
    model = CRNN(**SMALL)
    x = features()
    with torch.no_grad():
        model.train()
        first, second = model(x).strong_logits, model(x).strong_logits
        model.eval()
        third, fourth = model(x).strong_logits, model(x).strong_logits
    assert not torch.allclose(first, second)
    assert torch.equal(third, fourth)


def test_float64_and_bfloat16_autocast_give_finite_outputs():
    torch.manual_seed(5)
    model = CRNN(**SMALL).eval()
    with torch.no_grad():
        reference = model(features())
        double = model.double()(features(dtype=torch.float64))
        model.float()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = model(features())
    assert all(t.dtype == torch.float64 and torch.isfinite(t).all() for t in double)
    assert torch.allclose(double.strong_probs.float(), reference.strong_probs, atol=1e-5)
    assert all(torch.isfinite(t).all() for t in half)
    assert torch.allclose(half.strong_probs.float(), reference.strong_probs, atol=0.05)


def test_gradients_reach_every_parameter():
    torch.manual_seed(6)
    model = CRNN(**SMALL).train()
    out = model(features(batch=4))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out.strong_logits, torch.ones_like(out.strong_logits))
    loss = loss + torch.nn.functional.binary_cross_entropy(out.weak_probs, torch.zeros_like(out.weak_probs))
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"filters": (16, 32)}, "pooling has 7 entries"),
        ({"rnn_dropout": 1.0}, "rnn_dropout"),
        ({"attention_softmax": "frames"}, "attention_softmax"),
        ({"n_mels": 64}, "leaves no band"),
        ({"kernel_size": 2}, "odd"),
        ({"hidden": 3}, "unknown CRNNConfig fields"),
        ({"pooling": [1, 2]}, r"pooling must be a list of \(time, freq\) kernel pairs.*got \[1, 2\]"),
        ({"pooling": "abc"}, "pooling must be a list of"),
        ({"pooling": [[1, 2.5]] * 7}, r"got \[\[1, 2.5\]"),
        ({"filters": 16}, "filters must be a list of channel counts"),
        ({"filters": ["16"] * 7}, "filters must be a list of channel counts"),
    ],
)
def test_bad_config_is_a_clear_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        CRNN(**overrides)


def test_wrong_input_shape_is_a_clear_error():
    model = CRNN(**SMALL)
    with pytest.raises(ValueError, match="n_mels=128"):
        model(features(n_mels=64))
    with pytest.raises(ValueError, match="batch, n_mels"):
        model(torch.zeros(128, 64))


def test_desed2021_recipe_pools_weak_output_with_a_class_axis_softmax():
    """The paper's system (configs/desed2021.yaml): weak = sum_t(strong * a) / sum_t(a), a = max(softmax_classes(z), 1e-7)."""
    from pathlib import Path

    from tbfl.training.config import load_recipe

    recipe = load_recipe(Path(__file__).parents[1] / "configs" / "desed2021.yaml")
    assert recipe.model["attention_softmax"] == "classes"
    torch.manual_seed(3)
    model = sharpen(CRNN(CRNNConfig(**recipe.model))).eval()
    captured = {}
    model.attention_head.register_forward_hook(lambda module, inputs, output: captured.update(scores=output))
    with torch.no_grad():
        out = model(features(batch=2, n_frames=626))
    scores = captured["scores"].double()  # (B, T, C) attention logits
    weights = torch.softmax(scores, dim=2).clamp(min=1e-7)  # over the 10 classes of each frame
    strong = out.strong_probs.double().transpose(1, 2)  # (B, T, C)
    by_hand = (strong * weights).sum(dim=1) / weights.sum(dim=1)  # (B, C)
    assert out.weak_probs.shape == (2, 10)
    torch.testing.assert_close(out.weak_probs.double(), by_hand, atol=1e-6, rtol=0)
    time_softmax = (strong * torch.softmax(scores, dim=1)).sum(dim=1)
    assert (out.weak_probs.double() - time_softmax).abs().max() > 1e-3  # the two poolings really differ here
