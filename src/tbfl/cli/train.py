"""``tbfl train``: train the CRNN mean teacher with a selectable loss into a run folder."""

from __future__ import annotations

import argparse


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    """``["loss.name=tbfl", "training.max_epochs=3"]`` -> {"loss.name": "tbfl", ...} (values parsed as YAML)."""
    import yaml

    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--set {pair!r}: expected section.key=value, e.g. loss.name=tbfl")
        overrides[key] = yaml.safe_load(value)
    return overrides


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train the CRNN mean teacher (loss: BCE, focal, CBFL, TBFL, ASL, logit-adjusted BCE, OWBCE)")
    parser.add_argument(
        "--config",
        help="recipe: a shipped name (cpu-small, desed2021) or a YAML path, e.g. configs/cpu-small.yaml; "
        "with --resume it defaults to the run's own OUT/config.yaml",
    )
    parser.add_argument("--out", required=True, help="run folder (config, weights, checkpoints, logs, scores, metrics)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a config value (repeatable)")
    parser.add_argument("--devices", default="1", help="devices per node (an int, or 'auto')")
    parser.add_argument("--accelerator", default="auto", help="cpu | gpu | auto")
    parser.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node DDP (torchrun or SLURM set the rest)")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue from OUT/checkpoints/last.ckpt (the recipe: OUT/config.yaml, which holds every --set of the run, or --config)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def resume_command(out: str) -> str:
    """The command that continues an interrupted run: the recipe (with every override) is the run's config.yaml."""
    import shlex

    return f"tbfl train --out {shlex.quote(out)} --resume"


def run(args: argparse.Namespace) -> int:
    import json

    from tbfl.run_folder import RunFolder
    from tbfl.training.config import load_recipe
    from tbfl.training.train import train_run

    config = args.config
    if config is None:
        if not args.resume:
            raise ValueError("--config is required (a recipe YAML, e.g. configs/cpu-small.yaml)")
        config = RunFolder(args.out).config
        if not config.is_file():
            raise FileNotFoundError(f"{config}: no config.yaml in the run folder to resume; give the recipe with --config")
    recipe = load_recipe(config, parse_overrides(args.overrides))
    devices = int(args.devices) if args.devices.isdigit() else args.devices
    result = train_run(
        recipe, args.out, devices=devices, accelerator=args.accelerator, num_nodes=args.num_nodes, resume=args.resume, progress=not args.no_progress
    )
    if result.interrupted:
        print(f"interrupted at step {result.global_step}; continue with: {resume_command(args.out)}")
        return 130
    if result.metrics:
        summary = {key: result.metrics[key] for key in ("psds1", "psds2", "event_f1", "intersection_f1") if key in result.metrics}
        print(json.dumps(summary, indent=2, default=str))
        print(f"run folder: {result.run_dir}")
    return 0
