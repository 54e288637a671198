"""Command line: ``python -m hubdemo classify IMAGE... [--model HANDLE] [--top-k K] --json``."""

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


def _record(result) -> dict:
    if result.error:
        return {"file": result.name, "error": result.error}
    return {"file": result.name,
            "predictions": [{"index": p.index, "label": p.label, "probability": p.probability}
                            for p in result.predictions]}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"classify": classify}[args.command](args)
    except HubDemoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
