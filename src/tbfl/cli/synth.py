"""``tbfl synth``: make a DESED-format dataset offline (procedural soundbank or an existing one)."""

from __future__ import annotations

import argparse
import sys

def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from tbfl.synth.presets import PRESETS  # light: dataclasses and the paper's Table 1

    parser = subparsers.add_parser(
        "synth",
        help="generate a DESED-like dataset (soundbank + soundscapes + TSVs)",
        description="Generate a synthetic dataset in the real DESED 2021 layout: a soundbank shaped like the paper's "
        "Table 1, synthetic train/validation soundscapes with strong labels, a weak set, an unlabeled set and a "
        "'validation' set mixed from held-out sources. Reruns resume where they stopped.",
    )
    parser.add_argument("--out", metavar="DIR", help="dataset root to write (created; an interrupted run resumes)")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="small", help="set sizes (default: small, ~1,950 clips)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed; the same seed gives the same dataset (default 0)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    parser.add_argument("--soundbank", metavar="DIR", help="existing soundbank folder with foreground/<class>/ and background/ to mix from instead of the procedural one")
    world = parser.add_argument_group("world", "reshape the preset's soundbank and validation set (docs/synth-worlds.md); recorded in tbfl_synth.json")
    world.add_argument("--volume-spread", type=float, metavar="S", help="spread of V_c in log units around their geometric mean: 0 flat, 1 the paper's Table 1, 2 twice as wide (total kept)")
    world.add_argument("--duration-spread", type=float, metavar="S", help="spread of the mean source (event) lengths, same scale: 0 all classes alike, 1 the paper's, 2 wider")
    world.add_argument("--event-count-spread", type=float, metavar="S",
                       help="spread of the classes' shares of events over Table 1's, same scale, whatever the lengths: with it, "
                       "--duration-spread moves the event lengths alone (without it, the event counts spread too)")
    world.add_argument("--volume-scale", type=float, metavar="X", help="V_c as a multiple of Table 1's total (1 = the paper's V_c, 0.25 = small's)")
    world.add_argument("--heldout-per-class", type=int, metavar="N", help="held-out foreground sources per class, for the validation set")
    world.add_argument("--n-validation", type=int, metavar="N", help="clips of the validation set")
    parser.add_argument("--figure", metavar="PNG", help="also save a spectrogram of one example source per class to this PNG")
    parser.add_argument(
        "--own-example", action="store_true",
        help="write instead the example of docs/own-data.md: 6 renamed classes, strong labels only, no soundbank, described by OUT/dataset.yaml",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.out and not args.figure:
        raise ValueError("give --out DIR to generate a dataset (and/or --figure PNG)")
    if args.figure:
        from tbfl.synth.figures import plot_class_examples

        print(f"wrote {plot_class_examples(args.figure, seed=args.seed)}")
    if not args.out:
        return 0
    if args.own_example:
        from tbfl.synth.own import make_own_example

        if args.soundbank:
            raise ValueError("--own-example makes its own sounds: drop --soundbank")
        print(f"dataset description: {make_own_example(args.out, args.preset, args.seed, progress=not args.no_progress)}")
        return 0
    from tbfl.synth.generate import generate_dataset
    from tbfl.synth.presets import World

    world = World(args.volume_spread, args.duration_spread, args.volume_scale, args.heldout_per_class, args.n_validation,
                  event_count_spread=args.event_count_spread)
    try:
        report = generate_dataset(args.out, args.preset, seed=args.seed, jobs=args.jobs, soundbank=args.soundbank, progress=not args.no_progress, world=world)
    except KeyboardInterrupt:
        print("\ntbfl synth: interrupted; finished files are kept: run the same command again to resume", file=sys.stderr)
        return 130
    print(f"dataset {report.root} (preset {report.preset}, seed {report.seed}, speech: {report.speech_backend})")
    print(f"  soundbank: {report.sources_written} files written ({report.seconds['soundbank']:.1f} s)")
    for name, total in report.clips_total.items():
        print(f"  {name:<18} {total:>6} clips, {report.clips_written[name]:>6} written now ({report.seconds[name]:.1f} s)")
    return 0

