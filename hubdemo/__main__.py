"""Command line for scripts and headless checks.

    python -m hubdemo classify IMAGE... [--model HANDLE_OR_EXPORT] [--top-k K] [--json]
    python -m hubdemo dataset PATH [--json]
    python -m hubdemo train DATA_DIR --out DIR [--epochs N] [--batch-size B] [--learning-rate LR]
                                    [--validation-split F] [--seed S] [--model HANDLE] [--from-scratch]
                                    [--fine-tune] [--strategy mirrored|multi-worker]
    python -m hubdemo evaluate EXPORT_DIR DATA_DIR [--json]
    python -m hubdemo explain IMAGE... [--model M] [--method gradcam|occlusion|integrated-gradients] --out DIR [--json]
    python -m hubdemo notebook DATA_DIR --out RUN.ipynb [the train options]
    python -m hubdemo map DATA [--model M] [--method pca|tsne|umap] [--place IMAGE...] [--json]
    python -m hubdemo learning-curve DATA [--model M] [--validation-split F] [--seed S] [--json]
    python -m hubdemo compare DATA --models M1,M2[,...] [the train options] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _


class _Help(argparse.RawDescriptionHelpFormatter):
    """argparse's layout, with its one word of its own ("usage:") in the reader's language."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse, whose complaints about the command line are said in the reader's language too."""

    MISTAKES = [  # argparse's English (it offers no catalogue of its own to this app), then ours.
        (r"the following arguments are required: (?P<names>.*)", N_("missing: {names}")),
        (r"unrecognized arguments: (?P<names>.*)", N_("not an option of this command: {names}")),
        (r"argument (?P<name>\S+): invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)",
         N_("{name} cannot be {value}: choose one of {choices}")),
        (r"argument (?P<name>\S+): invalid (?P<kind>\w+) value: (?P<value>.*)",
         N_("{name} needs a number ({kind}), not {value}")),
        (r"argument (?P<name>\S+): expected one argument", N_("{name} needs a value after it")),
    ]

    def error(self, message):
        for pattern, words in self.MISTAKES:
            found = re.fullmatch(pattern, message)
            if found:
                message = _(words).format(**found.groupdict())
                break
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def _command(commands, name: str, summary: str):
    """One command: listed with ``summary``, its ``--help`` headed by it; returns where its options go.

    The options live in a group titled in the reader's language (argparse's own
    "positional arguments"/"options" cannot be translated), with a translated ``-h``.
    """
    parser = commands.add_parser(name, help=summary, description=summary, formatter_class=_Help, add_help=False)
    options = parser.add_argument_group(_("arguments"))
    options.add_argument("-h", "--help", action="help", help=_("show this help and exit"))
    return options


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m hubdemo", formatter_class=_Help, add_help=False,
        description=_("The app's steps without a browser: for scripts, servers and checks."),
        epilog=_("Examples:\n"
                 "  python -m hubdemo classify photo.jpg --json\n"
                 "  python -m hubdemo train flowers/ --out exports/flowers --epochs 10\n"
                 "  python -m hubdemo classify photo.jpg --model exports/flowers\n"
                 "Each command's options: python -m hubdemo COMMAND --help"))
    parser.add_argument_group(_("arguments")).add_argument("-h", "--help", action="help",
                                                          help=_("show this help and exit"))
    commands = parser.add_subparsers(dest="command", required=True, title=_("commands"), metavar="COMMAND")
    classify = _command(commands, "classify", _("top-k classes of image files, by an ImageNet model or yours"))
    classify.add_argument("images", nargs="+", metavar="IMAGE", help=_("photos to classify"))
    classify.add_argument("--model", default="efficientnet_lite0",
                          help=_("catalogue name, TF Hub URL, SavedModel folder, or an export folder written by "
                                 "the app or `train` (its labels.txt names the classes) (default: %(default)s)"))
    classify.add_argument("--top-k", type=int, default=5, metavar="K",
                          help=_("how many classes to show per photo (default: %(default)s)"))
    classify.add_argument("--json", action="store_true", help=_("print one JSON list"))
    dataset = _command(commands, "dataset", _("check a dataset folder or .zip: classes, counts, skipped files"))
    dataset.add_argument("path", metavar="PATH", help=_("a folder with one subfolder per class, or a .zip"))
    dataset.add_argument("--json", action="store_true", help=_("print one JSON object"))

    from hubdemo.runs import TrainConfig
    defaults = TrainConfig()
    train = _command(commands, "train", _("train a new head, export it and check the export"))
    train.add_argument("data", metavar="DATA_DIR", help=_("a folder with one subfolder per class, or a .zip"))
    train.add_argument("--out", required=True, metavar="DIR",
                       help=_("the export folder to write: SavedModel, labels.txt, TFLite, metadata.json"))
    _train_options(train, defaults)
    train.add_argument("--from-scratch", action="store_true",
                       help=_("train the same network from random weights (no ImageNet): slow, and the lesson"))
    train.add_argument("--fine-tune", action="store_true", help=_("train the whole network, not only the new layer"))
    train.add_argument("--strategy", choices=("mirrored", "multi-worker"),
                       help=_("tf.distribute: every GPU (or HUBDEMO_CPU_DEVICES logical CPUs) of this machine, "
                              "or the machines TF_CONFIG lists"))

    explain = _command(commands, "explain", _("heatmaps: where in each photo the model looks"))
    explain.add_argument("images", nargs="+", metavar="IMAGE", help=_("photos to explain"))
    explain.add_argument("--model", default="efficientnet_lite0",
                         help=_("as for classify (default: %(default)s)"))
    explain.add_argument("--method", choices=("gradcam", "occlusion", "integrated-gradients"),
                         help=_("default: gradcam where the model allows it, else occlusion"))
    explain.add_argument("--out", required=True, metavar="DIR", help=_("where to write <stem>.npy and <stem>.png"))
    explain.add_argument("--json", action="store_true", help=_("print one JSON list"))

    notebook = _command(commands, "notebook", _("a Jupyter notebook that reproduces a training run "
                                                "with TensorFlow Hub alone"))
    notebook.add_argument("data", metavar="DATA_DIR", help=_("a folder with one subfolder per class, or a .zip"))
    notebook.add_argument("--out", required=True, metavar="FILE.ipynb", help=_("the notebook to write"))
    _train_options(notebook, defaults)

    feature_map = _command(commands, "map", _("a dataset's feature vectors laid out in 2-D, one point per photo"))
    feature_map.add_argument("data", metavar="DATA", help=_("a folder with one subfolder per class, or a .zip"))
    _feature_model(feature_map)
    feature_map.add_argument("--method", choices=("pca", "tsne", "umap"), default="pca",
                             help=_("the layout (default: %(default)s)"))
    feature_map.add_argument("--place", nargs="+", default=[], metavar="IMAGE",
                             help=_("photos to place on the map among their nearest photos by features"))
    feature_map.add_argument("--json", action="store_true", help=_("print one JSON object"))

    curve = _command(commands, "learning-curve", _("validation accuracy against training photos per class"))
    curve.add_argument("data", metavar="DATA", help=_("a folder with one subfolder per class, or a .zip"))
    _feature_model(curve)
    _split_options(curve, defaults)
    curve.add_argument("--json", action="store_true", help=_("print one JSON list"))

    compare = _command(commands, "compare", _("train the same head on several feature extractors and "
                                              "compare accuracy, speed, size and parameters"))
    compare.add_argument("data", metavar="DATA", help=_("a folder with one subfolder per class, or a .zip"))
    compare.add_argument("--models", required=True, metavar="M1,M2",
                         help=_("two to four feature-vector models, comma-separated: catalogue names, URLs or folders"))
    _train_options(compare, defaults, model=False)
    compare.add_argument("--json", action="store_true", help=_("print one JSON list"))

    evaluate = _command(commands, "evaluate", _("accuracy of an exported model on a labelled dataset"))
    evaluate.add_argument("model_dir", metavar="EXPORT_DIR", help=_("an export folder written by the app or `train`"))
    evaluate.add_argument("data", metavar="DATA_DIR", help=_("a folder with one subfolder per class, or a .zip"))
    evaluate.add_argument("--json", action="store_true", help=_("print one JSON object"))
    return parser


def _train_options(command, defaults, model: bool = True) -> None:
    """The settings of a training run, shared by `train`, `notebook` and `compare`."""
    command.add_argument("--epochs", type=int, default=defaults.epochs, metavar="N",
                         help=_("how many times the model sees every training photo (default: %(default)s)"))
    command.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="B",
                         help=_("photos per training step (default: %(default)s)"))
    command.add_argument("--learning-rate", type=float, default=defaults.learning_rate, metavar="LR",
                         help=_("how big each step is (default: %(default)s)"))
    _split_options(command, defaults)
    if model:
        _feature_model(command)


def _split_options(command, defaults) -> None:
    """Which photos are held back for validation: the same share and seed give the same split everywhere."""
    command.add_argument("--validation-split", type=float, default=defaults.validation_split, metavar="F",
                         help=_("share of the photos held back to check the model (default: %(default)s)"))
    command.add_argument("--seed", type=int, default=defaults.seed, metavar="S",
                         help=_("same seed, same split, same result (default: %(default)s)"))


def _feature_model(command) -> None:
    command.add_argument("--model", default="efficientnet_lite0_features",
                         help=_("feature-vector model: catalogue name, TF Hub URL or folder (default: %(default)s)"))


def _config(args):
    from hubdemo import runs
    return runs.TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                            validation_split=args.validation_split, seed=args.seed,
                            from_scratch=getattr(args, "from_scratch", False),
                            fine_tune=getattr(args, "fine_tune", False))


def classify(args) -> int:
    from hubdemo import images, models
    if args.top_k < 1:
        raise HubDemoError(_("--top-k must be at least 1, not {top_k}.").format(top_k=args.top_k))
    files, unreadable = [], {}
    for path in args.images:
        try:
            files.append((path, images.read_file(path)))
        except HubDemoError as err:
            unreadable[path] = str(err)
    classifier = _classifier(args.model)
    by_name = {r.name: r for r in classifier.classify_files(files, k=args.top_k)}
    results = [by_name.get(path) or models.ImageResult(path, error=unreadable[path]) for path in args.images]
    records = [_record(r) for r in results]
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for r in results:
            print(f"{r.name}: " + (r.error or ", ".join(f"{p.label} {p.probability:.1%}" for p in r.predictions)))
    return 0 if any(not r.error for r in results) else 1


def _classifier(model: str):
    """An export folder (with labels.txt) classifies with its own classes; anything else is an ImageNet model."""
    from hubdemo import models, saved
    if saved.is_export(model):
        return saved.open_folder(model).classifier
    return models.ImageNetClassifier(models.resolve_handle(model))


def explain(args) -> int:
    from hubdemo import explain as lenses
    from hubdemo import images
    classifier = _classifier(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gradcam = (args.method or lenses.methods_for(classifier)[0]) == "gradcam"
    network = lenses.CamNetwork(lenses.gradcam_network(classifier)) if gradcam and lenses.gradcam_ready(classifier) \
        else None
    records, stems = [], set()
    for path in args.images:
        try:
            data = images.read_file(path)
            photo = images.read_image(data, Path(path).name)
            batch = images.load_for_model(data, classifier.input_size, Path(path).name)[None]
        except HubDemoError as err:
            records.append({"file": path, "error": str(err)})
            continue
        (heatmap,) = lenses.explain(classifier, batch, method=args.method, network=network)
        stem = _unique(Path(path).stem, stems)
        np.save(out / f"{stem}.npy", heatmap.heat)
        photo.thumbnail((640, 640))
        Image.fromarray(lenses.overlay(np.asarray(photo), heatmap.heat)).save(out / f"{stem}.png")
        records.append({"file": path, "label": heatmap.label, "probability": heatmap.probability,
                        "method": heatmap.method, "seconds": round(heatmap.seconds, 3),
                        "heatmap": str(out / f"{stem}.npy")})
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for r in records:
            print(f"{r['file']}: " + (r.get("error") or f"{r['label']} {r['probability']:.1%} ({r['method']}, "
                                                           f"{r['heatmap']})"))
    return 0 if any("error" not in r for r in records) else 1


def _dataset_features(args):
    """The dataset and every photo's feature vector (from the feature cache where it has them)."""
    from hubdemo import datasets, features, models
    data = datasets.load_source(args.data)
    extractor = features.FeatureExtractor(models.resolve_handle(args.model))
    feats, skipped = extractor.extract(list(data.files))
    return data, feats, skipped, extractor


def notebook(args) -> int:
    from hubdemo import datasets, models
    from hubdemo import notebook as notebooks
    data = datasets.load_source(args.data)
    config = _config(args)
    config.check()
    text = notebooks.training_notebook(data.root, models.resolve_handle(args.model), config,
                                       title=_("{label}: transfer learning with TensorFlow Hub").format(
                                           label=data.name))
    path = notebooks.write_notebook(Path(args.out), text)
    print(_("Wrote {path}: {photos} photos of {root}, {epochs} epochs. Run it with Jupyter.").format(
        path=path, photos=len(data), root=data.root, epochs=config.epochs))
    return 0


def feature_map(args) -> int:
    from hubdemo import projection
    data, feats, skipped, extractor = _dataset_features(args)
    points = projection.feature_map(data, feats, skipped, args.method)
    result = {"method": args.method, "points": [vars(p) for p in points]}
    if args.place:
        asked, unreadable = extractor.extract([Path(f) for f in args.place])
        for index, reason in sorted(unreadable.items()):
            print(reason, file=sys.stderr)
        readable = [i for i in range(len(args.place)) if i not in unreadable]
        placed = projection.place(asked[readable], feats, skipped, points) if readable else []
        usual = projection.usual_similarity(feats, skipped)
        result["usual_similarity"] = vars(usual)  # A photo whose nearest is less alike than "low" is unlike them all.
        result["placed"] = [{"file": args.place[i], "x": p.x, "y": p.y, "like_the_dataset": p.neighbours[0].similarity
                             >= usual.low, "neighbours": [vars(n) for n in p.neighbours]}
                            for i, p in zip(readable, placed)]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for p in points:
            print(f"{p.x:9.3f} {p.y:9.3f}  {p.label}  {p.file}")
        for p in result.get("placed", []):
            near = ", ".join(f"{n['label']} {n['similarity']:.2f}" for n in p["neighbours"])
            print(f"{p['x']:9.3f} {p['y']:9.3f}  {p['file']}  ({_('nearest')}: {near})")
    return 0


def learning_curve(args) -> int:
    from hubdemo import datasets
    from hubdemo import learning_curve as curves
    data, feats, skipped, _extractor = _dataset_features(args)
    split = datasets.split(data, args.validation_split, args.seed)
    points = curves.learning_curve(feats, data.labels, [i for i in split.train if i not in skipped],
                                   [i for i in split.validation if i not in skipped], seed=args.seed)
    if args.json:
        print(json.dumps([p.as_dict() for p in points], indent=2))
    else:
        for p in points:
            print(_("{per_class} per class: {accuracy:.3f} ({low:.3f}-{high:.3f}, {draws} draws)").format(
                per_class=_("all") if p.all_photos else p.per_class, accuracy=p.accuracy, low=p.low, high=p.high,
                draws=p.draws))
    return 0


def _unique(stem: str, taken: set[str]) -> str:
    """``stem``, or ``stem-2``, ``stem-3``… if another image had it: no heatmap overwrites another."""
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}"
    taken.add(name)
    return name


def dataset(args) -> int:
    from hubdemo import datasets
    try:
        data = datasets.load_source(args.path)
    except HubDemoError as err:
        if not args.json:
            raise
        print(json.dumps({"error": str(err)}))
        return 1
    summary = {"classes": list(data.class_names), "counts": data.counts,
               "skipped": [{"file": s.file, "reason": s.reason} for s in data.skipped]}
    if data.warnings:
        summary["warnings"] = list(data.warnings)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_("{photos} images in {classes} classes from {root}").format(
            photos=len(data), classes=len(data.class_names), root=data.root))
        for name, count in data.counts.items():
            print(f"  {name}: {count}")
        for s in data.skipped:
            print("  " + _("skipped {file}: {reason}").format(file=s.file, reason=s.reason))
        for warning in data.warnings:
            print(_("warning: {warning}").format(warning=warning))
    return 0


def _print_epoch(e: dict) -> None:
    print(f"epoch {e['epoch']}: loss {e.get('loss', 0):.4f} accuracy {e.get('accuracy', 0):.3f} "
          f"val_loss {e.get('val_loss', 0):.4f} val_accuracy {e.get('val_accuracy', 0):.3f}", flush=True)


def train(args) -> int:
    from hubdemo import datasets, distribute, export, models, runs, training
    strategy = distribute.make(args.strategy)  # First: a multi-worker strategy must start before any other op.
    data = datasets.load_source(args.data)
    config = _config(args)
    run = runs.Run(config, feature_handle=models.resolve_handle(args.model), dataset_name=data.name,
                   dataset_key=data.fingerprint, on_epoch_end=_print_epoch)
    replicas = distribute.replicas(strategy)
    print(_("Training on {photos} images in {classes} classes from {root}").format(
        photos=len(data), classes=len(data.class_names), root=data.root)
          + (_(", {replicas} replicas ({strategy})").format(replicas=replicas, strategy=args.strategy)
             if strategy else ""), flush=True)
    training.train(data, run, strategy=strategy)
    if not distribute.is_chief(strategy):  # Another worker of a cluster: worker 0 writes the export.
        print(json.dumps({"val_accuracy": run.evaluation.accuracy, "replicas": replicas, "chief": False}))
        return 0
    report = export.export_run(run, Path(args.out),
                               progress=lambda step, done, total: print(_("export: {step}").format(
                                   step=_(step)), flush=True))
    print(json.dumps({"val_accuracy": run.evaluation.accuracy, "reload_max_abs_diff": report.reload_max_abs_diff,
                      "tflite_agreement": {c.file: c.agree / c.checked for c in report.tflite},
                      "seconds": round(run.seconds, 2), "out": str(report.folder),
                      "classes": list(run.model.labels), "replicas": replicas}))
    return 0


def evaluate(args) -> int:
    from hubdemo import datasets, evaluation, saved
    model = saved.open_folder(args.model_dir)
    data = datasets.load_source(args.data)
    result, kept = evaluation.evaluate_dataset(model.classifier, data)
    summary = {"accuracy": result.accuracy, "per_class": result.per_class,
               "confusion": result.confusion.tolist(), "labels": list(model.class_names)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_("accuracy {accuracy:.3f} on {photos} images").format(accuracy=result.accuracy, photos=len(kept)))
        for name, value in result.per_class.items():
            print(f"  {name}: {value:.3f}")
    return 0


def _record(result) -> dict:
    if result.error:
        return {"file": result.name, "error": result.error}
    return {"file": result.name,
            "predictions": [{"index": p.index, "label": p.label, "probability": p.probability}
                            for p in result.predictions]}


def compare(args) -> int:
    from hubdemo import compare as comparison
    from hubdemo import datasets
    data = datasets.load_source(args.data)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    entries = comparison.compare(data, names, _config(args), progress=lambda model, done, total: print(
        _("{model}: training a head on its features ({number} of {total})").format(
            model=model, number=done + 1, total=total), file=sys.stderr, flush=True))
    rows = [entry.as_dict() for entry in entries]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(_("{model}: {accuracy:.1%} right, {ms:.1f} ms a photo, {mb:.1f} MB, {parameters:,} parameters")
                  .format(model=row["model"], accuracy=row["val_accuracy"], ms=row["ms_per_image"],
                          mb=row["export_mb"], parameters=row["parameters"]))
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"classify": classify, "dataset": dataset, "train": train, "evaluate": evaluate,
                "explain": explain, "map": feature_map, "learning-curve": learning_curve,
                "notebook": notebook, "compare": compare}[args.command](args)
    except HubDemoError as err:
        print(_("error: {message}").format(message=err), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
