"""Command line for scripts and headless checks.

    python -m hubdemo classify IMAGE... [--model HANDLE] [--top-k K] [--json]
    python -m hubdemo dataset PATH [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

from hubdemo.errors import HubDemoError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hubdemo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    classify = commands.add_parser("classify", help="ImageNet top-k classes of image files")
    classify.add_argument("images", nargs="+", metavar="IMAGE")
    classify.add_argument("--model", default="efficientnet_lite0",
                          help="catalogue name, TF Hub URL or SavedModel folder (default: %(default)s)")
    classify.add_argument("--top-k", type=int, default=5, metavar="K")
    classify.add_argument("--json", action="store_true", help="print one JSON list")
    dataset = commands.add_parser("dataset", help="check a dataset folder or .zip: classes, counts, skipped files")
    dataset.add_argument("path", metavar="PATH")
    dataset.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def classify(args) -> int:
    from hubdemo import images, models
    if args.top_k < 1:
        raise HubDemoError(f"--top-k must be at least 1, not {args.top_k}.")
    files, unreadable = [], {}
    for path in args.images:
        try:
            files.append((path, images.read_file(path)))
        except HubDemoError as err:
            unreadable[path] = str(err)
    classifier = models.Classifier(models.resolve_handle(args.model))
    by_name = {r.name: r for r in classifier.classify_files(files, k=args.top_k)}
    results = [by_name.get(path) or models.ImageResult(path, error=unreadable[path]) for path in args.images]
    records = [_record(r) for r in results]
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for r in results:
            print(f"{r.name}: " + (r.error or ", ".join(f"{p.label} {p.probability:.1%}" for p in r.predictions)))
    return 0 if any(not r.error for r in results) else 1


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
        print(f"{len(data)} images in {len(data.class_names)} classes from {data.root}")
        for name, count in data.counts.items():
            print(f"  {name}: {count}")
        for s in data.skipped:
            print(f"  skipped {s.file}: {s.reason}")
        for warning in data.warnings:
            print(f"warning: {warning}")
    return 0


def _record(result) -> dict:
    if result.error:
        return {"file": result.name, "error": result.error}
    return {"file": result.name,
            "predictions": [{"index": p.index, "label": p.label, "probability": p.probability}
                            for p in result.predictions]}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"classify": classify, "dataset": dataset}[args.command](args)
    except HubDemoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
