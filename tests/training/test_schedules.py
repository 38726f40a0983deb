import math

import pytest
import torch

from tbfl.training.schedules import ema_decay, exp_rampup, mixup, update_ema


def test_exp_rampup_values():
    assert exp_rampup(0, 100) == pytest.approx(math.exp(-5))
    assert exp_rampup(50, 100) == pytest.approx(math.exp(-1.25))
    assert exp_rampup(100, 100) == 1.0 and exp_rampup(1000, 100) == 1.0
    assert exp_rampup(3, 0) == 1.0
    values = [exp_rampup(t, 100) for t in range(0, 101, 10)]
    assert values == sorted(values)


def test_ema_decay_schedule():
    assert ema_decay(0) == 0.0  # first update copies the student
    assert ema_decay(1) == pytest.approx(0.5)
    assert ema_decay(9) == pytest.approx(0.9)
    assert ema_decay(100_000) == 0.999


def test_update_ema_parameters_only():
    torch.manual_seed(0)
    student, teacher = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        student.weight.fill_(2.0)
        teacher.weight.fill_(1.0)
        student.running_mean.fill_(5.0)
    update_ema(teacher, student, 0.75)
    assert torch.allclose(teacher.weight, torch.full((3,), 1.25))
    assert torch.allclose(teacher.running_mean, torch.zeros(3))  # the teacher's own statistics


def test_mixup_mixes_magnitudes_and_labels():
    features_db = torch.tensor([[[0.0]], [[-20.0]]])  # magnitudes 1.0 and 0.1
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    swapped = 0
    for seed in range(20):
        mixed_db, mixed_targets = mixup(features_db, targets, torch.Generator().manual_seed(seed))
        assert torch.allclose(mixed_targets.sum(1), torch.ones(2))  # soft labels stay a convex mix
        lam = mixed_targets[0, 0].item()  # clip 0 keeps weight lam on its own label
        partner_magnitude = 0.1 if mixed_targets[0, 1] > 0 else 1.0
        swapped += partner_magnitude == 0.1
        expected_db = 20 * math.log10(lam * 1.0 + (1 - lam) * partner_magnitude)
        assert mixed_db[0, 0, 0].item() == pytest.approx(expected_db, abs=1e-4)
    assert swapped > 0  # some seeds pair the two clips


def test_mixup_is_reproducible_for_a_seed():
    features, targets = torch.randn(6, 4, 5), torch.rand(6, 3)
    first = mixup(features, targets, torch.Generator().manual_seed(7))
    second = mixup(features, targets, torch.Generator().manual_seed(7))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
