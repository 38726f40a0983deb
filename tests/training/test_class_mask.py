"""Classes a clip's set does not annotate are masked out of its classification loss and of the class-axis attention."""

import pytest
import torch

from tbfl.losses import binary_cross_entropy
from tbfl.training.module import MeanTeacherSED
from tbfl.training.schedules import mixup, mixup_masked

CLASSES = ("Kettle", "Doorbell", "Typing")
MODEL = {"n_mels": 16, "filters": [4, 4], "pooling": [[1, 2], [1, 2]], "rnn_hidden": 4, "cnn_dropout": 0.0, "dropout_head": 0.0}
FEATURES = {"n_mels": 16, "hop_length": 1024}


def _module(loss: dict, attention_softmax: str) -> MeanTeacherSED:
    torch.manual_seed(0)
    weights = [0.5, 1.0, 1.5] if loss["name"] in ("tbfl", "cbfl") else None
    return MeanTeacherSED({**MODEL, "attention_softmax": attention_softmax}, loss, {}, weights, CLASSES, FEATURES)


def _batch(module: MeanTeacherSED, n_clips: int = 4):
    generator = torch.Generator().manual_seed(1)
    features = torch.rand(n_clips, 16, 157, generator=generator)
    output = module.student(features)
    n_frames = output.strong_logits.shape[-1]
    strong = (torch.rand(n_clips, 3, n_frames, generator=generator) > 0.7).float()
    weak = (torch.rand(n_clips, 3, generator=generator) > 0.5).float()
    return features, strong, weak


def _head_gradients(module: MeanTeacherSED, features, strong, weak, mask) -> dict[str, torch.Tensor]:
    """Gradients of the classification loss (strong + weak) on the heads' rows, per class: (C,) absolute sums."""
    module.zero_grad()
    n = len(features) // 2  # first half strong clips, second half weak clips
    output = module.student(features, mask)
    strong_loss, weak_loss = module.classification_losses(output, strong[:n], mask[:n], weak[n:], mask[n:])
    (strong_loss + weak_loss).backward()
    heads = {"strong": module.student.strong_head, "attention": module.student.attention_head}
    return {name: head.weight.grad.abs().sum(1) + head.bias.grad.abs() for name, head in heads.items()}


@pytest.mark.parametrize("attention_softmax", ["time", "classes"])
@pytest.mark.parametrize("loss", [{"name": "bce"}, {"name": "tbfl", "gamma": 2.0}, {"name": "focal", "gamma": 2.0}])
def test_a_class_the_set_does_not_annotate_gets_exactly_zero_gradient(loss, attention_softmax):
    module = _module(loss, attention_softmax)
    features, strong, weak = _batch(module)
    unannotated = torch.tensor([[1.0, 1.0, 0.0]]).repeat(4, 1)  # every clip from a set without "Typing"
    gradients = _head_gradients(module, features, strong, weak, unannotated)
    for name, gradient in gradients.items():
        assert gradient[2].item() == 0.0, name  # exactly zero, not small
        assert (gradient[:2] > 0).all(), name
    full = _head_gradients(module, features, strong, weak, torch.ones(4, 3))
    assert (full["strong"] > 0).all() and (full["attention"] > 0).all()  # the same clips do teach "Typing" when annotated


def test_the_masked_loss_is_the_loss_over_the_annotated_classes_only():
    module = _module({"name": "bce"}, "classes")
    features, strong, weak = _batch(module)
    mask = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    output = module.student(features, mask)
    strong_loss, weak_loss = module.classification_losses(output, strong[:2], mask[:2], weak[2:], mask[2:])
    frames = strong.shape[-1]
    strong_terms = binary_cross_entropy(output.strong_logits[:2], strong[:2], reduction="none")
    kept = mask[:2].bool()
    assert strong_loss.item() == pytest.approx((strong_terms.sum(-1)[kept].sum() / (kept.sum() * frames)).item(), rel=1e-6)
    weak_terms = binary_cross_entropy(output.weak_probs[2:], weak[2:], from_logits=False, reduction="none")
    assert weak_loss.item() == pytest.approx(weak_terms[mask[2:].bool()].mean().item(), rel=1e-6)


def test_all_ones_masks_give_the_unmasked_loss_bit_for_bit():
    module = _module({"name": "tbfl", "gamma": 2.0}, "classes")
    features, strong, weak = _batch(module)
    output = module.student(features)
    assert torch.equal(module.student(features, torch.ones(4, 3)).weak_probs, output.weak_probs)
    strong_loss, weak_loss = module.classification_losses(output, strong[:2], torch.ones(2, 3), weak[2:], torch.ones(2, 3))
    assert torch.equal(strong_loss, module.loss_fn(output.strong_logits[:2], strong[:2]))
    assert torch.equal(weak_loss, module.loss_fn(output.weak_probs[2:], weak[2:], from_logits=False))


def test_without_weak_clips_the_weak_loss_is_zero():
    module = _module({"name": "bce"}, "time")
    features, strong, _ = _batch(module)
    _, weak_loss = module.classification_losses(module.student(features), strong, torch.ones(4, 3), None, None)
    assert weak_loss.item() == 0.0


def test_mixup_masked_keeps_a_class_only_where_both_clips_annotate_it():
    features, targets = torch.rand(6, 4, 5) * -40, torch.rand(6, 3)
    mask = torch.tensor([[1.0, 1.0, 0.0]] * 3 + [[1.0, 0.0, 1.0]] * 3)
    mixed, mixed_targets, mixed_mask = mixup_masked(features, targets, mask, torch.Generator().manual_seed(3))
    plain = mixup(features, targets, torch.Generator().manual_seed(3))
    assert torch.equal(mixed, plain[0]) and torch.equal(mixed_targets, plain[1])  # the same draws as mixup
    permutation = torch.randperm(6, generator=_after_beta(torch.Generator().manual_seed(3)))
    assert torch.equal(mixed_mask, mask * mask[permutation])


def _after_beta(generator: torch.Generator) -> torch.Generator:
    """The generator after mixup's Beta draw (two Gamma draws), where its permutation is drawn."""
    torch._standard_gamma(torch.tensor([0.2]), generator=generator)
    torch._standard_gamma(torch.tensor([0.2]), generator=generator)
    return generator
