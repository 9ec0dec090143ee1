"""Tests for transfer learning: the backbone file, a new head, freeze modes through the one training
loop, few-shot checks, and the CIFAR-10 class subsets."""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import replace

import pytest
import torch

from cnn_core import data as D
from cnn_core import models
from cnn_core import training as T
from cnn_core.data import cifar
from cnn_core.data.imageset import make_set
from cnn_core.training import transfer

TINY = (4, 8, 8)  # widths of a backbone small enough for fast tests


def colour_set(n_per_class: int = 12, classes: int = 3, seed: int = 0) -> D.ImageSet:
    """Colour patches: class k is mostly channel k, with noise; 32 x 32 RGB."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 80, (n_per_class * classes, 3, 32, 32), generator=g)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    x[torch.arange(len(y)), y] += 150
    tr = torch.arange(len(y)) % 4 != 0
    return make_set("patches", x[tr], y[tr], x[~tr], y[~tr], tuple(f"c{k}" for k in range(classes)), "test")


@pytest.fixture(scope="module")
def backbone_bytes() -> bytes:
    torch.manual_seed(1)
    config = transfer.backbone_config(5, TINY)
    return T.save_model(models.build(config), models.to_dict(config), meta={"classes": list("abcde"), "test_acc": 0.5})


def test_backbone_loads_and_new_head_keeps_pretrained_weights(backbone_bytes):
    bb = transfer.load_backbone(backbone_bytes)
    assert bb.meta["test_acc"] == 0.5 and bb.config.num_classes == 5
    config, state = transfer.with_new_head(bb, 3, seed=0)
    assert config.num_classes == 3
    assert state["fc1.weight"].shape == (3, 8)
    for k, v in bb.state.items():
        if not k.startswith("fc1."):
            assert torch.equal(state[k], v), k
    model = models.build(config)
    model.load_state_dict(state)  # fits the network it describes
    scratch = transfer.scratch_model(bb.config, 3)
    assert scratch.layers == config.layers and scratch.name != config.name


def test_bad_backbone_files_get_a_sentence(tmp_path, backbone_bytes):
    with pytest.raises(transfer.BackboneError, match="missing"):
        transfer.load_backbone(tmp_path / "nope.pt")
    with pytest.raises(transfer.BackboneError, match="truncated or corrupt"):
        transfer.load_backbone(backbone_bytes[: len(backbone_bytes) // 2])
    with pytest.raises(transfer.BackboneError, match="empty"):
        transfer.load_backbone(b"")
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(print))  # a pickle that names a function to run
    with pytest.raises(transfer.BackboneError, match="not a readable|code"):
        transfer.load_backbone(evil)
    other = models.fast_config(1, 10, 28)
    wrong = T.save_model(models.build(other), models.to_dict(other))
    with pytest.raises(transfer.BackboneError, match="3 x 32 x 32"):
        transfer.load_backbone(wrong)


def test_shipped_backbone_has_its_card_facts():
    if not transfer.BACKBONE_FILE.exists():
        pytest.skip("assets/backbone/backbone.pt not made yet (scripts/pretrain_backbone.py)")
    assert transfer.BACKBONE_FILE.stat().st_size < 5_000_000
    bb = transfer.load_backbone()
    assert tuple(bb.meta["classes"]) == cifar.PRETRAIN_CLASSES
    assert bb.meta["test_acc"] > 0.7  # five-way CIFAR: chance is 20 %
    assert (transfer.BACKBONE_FILE.parent / "MODEL_CARD.md").read_text().count(f"{bb.meta['test_acc']:.2%}") == 1


def test_freeze_modes_name_the_layers_that_train():
    config = transfer.backbone_config(3, TINY)
    assert transfer.trainable_layers(config, "frozen") == ("fc1",)
    last = transfer.trainable_layers(config, "last_block")
    assert last[0] == "conv3" and "bn3" in last and last[-1] == "fc1" and "conv2" not in last
    assert transfer.trainable_layers(config, "all") == ()
    with pytest.raises(ValueError, match="freeze mode"):
        transfer.trainable_layers(config, "half")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["frozen", "last_block", "all"])
def test_training_changes_only_the_layers_that_train(backbone_bytes, mode):
    data = colour_set()
    bb = transfer.load_backbone(backbone_bytes)
    config, state = transfer.with_new_head(bb, 3)
    model = models.build(config)
    model.load_state_dict(state)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tiled, cfg = transfer.few_shot_run(data, mode, config, steps=8)
    cfg = replace(cfg, device="cpu", threads=1, channels_last=False)
    events = list(T.train(model, tiled, cfg, checkpoint_every_s=None))
    assert events[-1].reason == "completed" and events[-1].step == 8
    after = model.state_dict()
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    expected = {
        "frozen": {"fc1"},
        "last_block": {"conv3", "bn3", "fc1"},
        "all": {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "fc1"},
    }
    assert changed == expected[mode]  # frozen batch norm keeps its running statistics too
    assert all(
        p.requires_grad == (mode == "all" or n.split(".")[0] in expected[mode]) for n, p in model.named_parameters()
    )


def test_same_steps_for_scratch_and_fine_tuning_over_the_images_repeated():
    data = colour_set()  # 27 training images
    tiled_a, a = transfer.few_shot_run(data, "frozen", transfer.backbone_config(3), steps=120)
    tiled_b, b = transfer.few_shot_run(data, None, steps=120)
    assert (a.batch_size, a.epochs, a.seed) == (b.batch_size, b.epochs, b.seed) == (27, 4, 0)
    assert torch.equal(tiled_a.x_train, tiled_b.x_train) and tiled_a.x_train.shape[0] == 30 * 27  # 30 steps an epoch
    assert torch.equal(tiled_a.x_train[27:54], data.x_train) and torch.equal(tiled_a.x_test, data.x_test)
    assert a.train_only == ("fc1",) and b.train_only == () and a.lr > b.lr
    with pytest.raises(ValueError, match="no layer named"):
        list(T.train(models.build(transfer.backbone_config(3, TINY)), data, replace(b, train_only=("fc9",))))


def test_train_only_round_trips_as_a_list():
    assert T.TrainConfig(train_only=["fc1"]).train_only == ("fc1",)  # as JSON gives it back


def test_few_shot_checks_say_a_sentence():
    transfer.check_few_shot(colour_set())
    one_class = colour_set(classes=1)
    with pytest.raises(D.DatasetUnavailable, match="at least 2 classes"):
        transfer.check_few_shot(one_class)
    x = torch.zeros((2, 3, 32, 32), dtype=torch.uint8)
    one_each = make_set("one", x, torch.tensor([0, 1]), x[:0], torch.tensor([], dtype=torch.long), ("a", "b"), "t")
    with pytest.raises(D.DatasetUnavailable, match="at least 2 images"):
        transfer.check_few_shot(one_each)


def test_grey_and_other_sizes_become_backbone_input():
    shapes = D.synthetic_shapes(4, size=20, seed=0)
    fitted = transfer.as_backbone_input(shapes)
    assert fitted.input_shape == (3, 32, 32) and fitted.x_train.dtype == torch.uint8
    assert len(fitted.mean) == 3 and fitted.notes[-1].startswith("Resized from 1 x 20 x 20")
    same = colour_set()
    assert transfer.as_backbone_input(same) is same


def test_few_shot_draws_are_seeded_and_balanced():
    data = colour_set(20)
    a, b, c = cifar.few_shot(data, 5, seed=0), cifar.few_shot(data, 5, seed=0), cifar.few_shot(data, 5, seed=1)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    assert torch.bincount(a.y_train).tolist() == [5, 5, 5]
    assert torch.equal(a.x_test, data.x_test)
    with pytest.raises(D.DatasetUnavailable, match="fewer than 99"):
        cifar.few_shot(data, 99)


def test_cifar_classes_relabel_and_skip_with_a_reason(tmp_path, monkeypatch):
    full = make_set(
        "CIFAR-10", torch.zeros((10, 3, 32, 32)), torch.arange(10), torch.zeros((10, 3, 32, 32)), torch.arange(10),
        D.CIFAR10_CLASSES, "t",
    )  # fmt: skip
    kept = cifar._keep(full, ("ship", "dog"), "two")
    assert kept.classes == ("ship", "dog") and kept.y_train.tolist() == [1, 0]  # dog (5) comes before ship (8)
    monkeypatch.setattr(cifar, "_LAB_DATASETS", tmp_path / "none")
    monkeypatch.delenv(D.DATA_DIR_ENV, raising=False)
    assert "cifar10-jpeg.zip is not in" in cifar.cifar_unavailable_reason(tmp_path)
    with pytest.raises(D.DatasetUnavailable, match="is not in"):
        cifar.cifar_classes(cifar.HELD_OUT_CLASSES, tmp_path)
    with pytest.raises(D.DatasetUnavailable, match="CIFAR-10 classes"):
        cifar.cifar_classes(("dog", "wolf"), tmp_path)
    zipfile.ZipFile(tmp_path / "cifar10-jpeg.zip", "w").close()
    assert cifar.cifar_root(tmp_path) == tmp_path and cifar.cifar_unavailable_reason(tmp_path) is None
