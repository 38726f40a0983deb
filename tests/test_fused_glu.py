"""The C++ GLU kernel computes what the PyTorch GLU computes, forward and backward."""

import pytest
import torch

from tbfl.fused_glu import FUSED_CHANNELS, can_fuse, fused_glu
from tbfl.model import CRNN, GLU, ConvBlock, CRNNConfig


def _glu_and_input(n_channels: int, dtype: torch.dtype, shape=(3, 37, 11)) -> tuple[GLU, torch.Tensor]:
    torch.manual_seed(n_channels)
    glu = GLU(n_channels).to(dtype)
    x = torch.randn(shape[0], n_channels, *shape[1:], dtype=dtype).contiguous(memory_format=torch.channels_last).requires_grad_()
    return glu, x


def _output_and_grads(glu: GLU, x: torch.Tensor, fused: bool, upstream: torch.Tensor | None = None):
    glu.fused = fused
    output = glu(x)
    upstream = torch.randn_like(output) if upstream is None else upstream
    return output, torch.autograd.grad(output, [x, glu.linear.weight, glu.linear.bias], upstream), upstream


@pytest.mark.parametrize("n_channels", sorted(FUSED_CHANNELS))
@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_fused_glu_equals_the_pytorch_glu(n_channels, dtype, tolerance):
    """Output, input gradient and Linear gradients; 1,221 pixels span two of the kernel's 1,024-pixel chunks."""
    glu, x = _glu_and_input(n_channels, dtype)
    assert can_fuse(glu.linear, x)
    want, want_grads, upstream = _output_and_grads(glu, x, fused=False)
    got, got_grads, _ = _output_and_grads(glu, x, fused=True, upstream=upstream)
    assert got.is_contiguous(memory_format=torch.channels_last)
    for got_value, want_value in zip((got, *got_grads), (want, *want_grads)):
        assert torch.linalg.norm(got_value - want_value) <= tolerance * torch.linalg.norm(want_value)


def test_fused_glu_passes_gradcheck():
    glu, x = _glu_and_input(8, torch.float64, shape=(2, 3, 5))
    assert torch.autograd.gradcheck(lambda inputs, weight, bias: fused_glu(glu.linear, inputs), (x, glu.linear.weight, glu.linear.bias))


def test_other_widths_layouts_and_dtypes_take_the_pytorch_operations():
    glu, x = _glu_and_input(12, torch.float64)
    assert not can_fuse(glu.linear, x)  # no kernel compiled for 12 channels
    glu.fused = True
    assert torch.allclose(glu(x), glu.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2) * torch.sigmoid(x))
    glu, x = _glu_and_input(8, torch.float32)
    assert not can_fuse(glu.linear, x.detach().contiguous())  # NCHW
    assert not can_fuse(glu.linear, x.detach().to(torch.bfloat16))


def test_cpu_fast_path_switches_every_glu():
    model = CRNN(CRNNConfig(n_mels=16, filters=(8, 16), pooling=((2, 2), (2, 2)), rnn_hidden=8))
    glus = [module for module in model.modules() if isinstance(module, GLU)]
    assert len(glus) == 2 and all(glu.fused for glu in glus)
    model.cpu_fast_path = False
    assert not any(glu.fused for glu in glus)


def test_the_weight_gradient_does_not_depend_on_the_thread_count():
    """The kernel sums per fixed chunk of pixels, then over chunks in order: bit-identical at 1 and 2 threads."""
    glu, x = _glu_and_input(16, torch.float32, shape=(4, 61, 17))  # 4,148 pixels: 5 chunks
    threads = torch.get_num_threads()
    results = []
    try:
        for n_threads in (1, 2):
            torch.set_num_threads(n_threads)
            results.append(_output_and_grads(glu, x, fused=True, upstream=torch.ones(4, 16, 61, 17))[1])
    finally:
        torch.set_num_threads(threads)
    for one_thread, two_threads in zip(*results):
        assert torch.equal(one_thread, two_threads)


@pytest.mark.parametrize("pooling,frames,bands", [((1, 2), 37, 11), ((2, 2), 37, 12), ((2, 1), 8, 4), ((3, 3), 10, 7)])
@pytest.mark.parametrize("training", [True, False])
def test_conv_block_with_the_pooling_in_the_kernel_equals_the_pytorch_block(pooling, frames, bands, training):
    """Conv -> BN -> GLU -> AvgPool, fused vs PyTorch: output and every gradient (odd sizes: the pooling's floor drops pixels)."""
    torch.manual_seed(sum(pooling))
    config = CRNNConfig(n_mels=bands, filters=(8,), pooling=(pooling,), cnn_dropout=0.0)
    fused = ConvBlock(4, 8, pooling, config).double().train(training)
    plain = ConvBlock(4, 8, pooling, config).double().train(training)
    plain.load_state_dict(fused.state_dict())
    fused[2].fused = True
    x = torch.randn(3, 4, frames, bands, dtype=torch.double).contiguous(memory_format=torch.channels_last).requires_grad_()
    results = []
    for block in (fused, plain):
        output = block(x)
        upstream = torch.linspace(-1, 1, output.numel(), dtype=torch.double).reshape(output.shape)
        results.append((output, *torch.autograd.grad(output, [x, *block.parameters()], upstream)))
    assert results[0][0].shape == (3, 8, frames // pooling[0], bands // pooling[1])
    scale = max(torch.linalg.norm(value) for value in results[1])  # the conv bias before batch norm: true gradient 0
    for got, want in zip(*results):
        assert torch.linalg.norm(got - want) <= 1e-12 * max(torch.linalg.norm(want), scale)


def test_conv_block_keeps_dropout_between_glu_and_pooling_in_training():
    config = CRNNConfig(n_mels=8, filters=(8,), pooling=((1, 2),), cnn_dropout=0.5)
    block = ConvBlock(4, 8, (1, 2), config).train()
    block[2].fused = True
    x = torch.randn(2, 4, 6, 8).contiguous(memory_format=torch.channels_last)
    assert can_fuse(block[2].linear, block[1](block[0](x)))
    torch.manual_seed(0)
    got = block(x)
    torch.manual_seed(0)
    want = block[4](block[3](fused_glu(block[2].linear, block[1](block[0](x)))))
    assert torch.equal(got, want)  # the same dropout mask: the GLU ran alone, then dropout, then pooling
