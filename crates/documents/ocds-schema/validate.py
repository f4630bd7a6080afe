#!/usr/bin/env python3
"""Validates OCDS 1.1 release packages against the official schema, patched with the
extensions Centrale uses (docs/ocds.md).

    validate.py [--no-strict] PACKAGE.json [...]

The core schemas (release-schema.json, release-package-schema.json, OCDS 1.1.5) and each
extension's patch (extensions/*/release-schema.json, extensions/*/release-package-schema.json)
are read from this directory. As the OCDS documentation prescribes, an extension's schema is a
JSON Merge Patch (RFC 7386) applied to the core schema. Validation is JSON Schema draft 4
(`jsonschema`, the version pinned by scripts/ocds-validate.sh), with `date-time` and `uri`
formats checked. By default it is also strict: every object of the schema gets
`additionalProperties: false`, so a misspelt or invented field fails (OCDS itself allows
additional fields; Centrale publishes none). Exit status 0 when every file is valid, 1 and one
line per error otherwise.
"""
import copy
import json
import re
import sys
import urllib.parse
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
EXTENSIONS = ["bid", "lots", "pagination"]
RELEASE_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def merge_patch(target, patch):
    """RFC 7386: objects merge member by member, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def patched(core, kind):
    schema = json.loads((HERE / core).read_text())
    for ext in EXTENSIONS:
        path = HERE / "extensions" / ext / kind
        if path.exists():
            patch = json.loads(path.read_text())
            # The pagination extension empties the package's `required` (so that a page may
            # carry `links` alone); Centrale's packages always hold every core required field,
            # so the core list is kept and checked.
            if patch.get("required") == []:
                del patch["required"]
            schema = merge_patch(schema, patch)
    return schema


def strict(node):
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


def checker():
    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("date-time")
    def date_time(value):
        return not isinstance(value, str) or bool(RFC3339.match(value))

    @fc.checks("uri")
    def uri(value):
        if not isinstance(value, str):
            return True
        u = urllib.parse.urlsplit(value)
        return bool(u.scheme) and bool(u.netloc or u.path) and " " not in value

    return fc


def validator(is_strict):
    release = patched("release-schema.json", "release-schema.json")
    package = patched("release-package-schema.json", "release-package-schema.json")
    if is_strict:
        strict(release)
        strict(package)
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry = Registry().with_resource(RELEASE_ID, Resource.from_contents(release, default_specification=DRAFT4))
    jsonschema.Draft4Validator.check_schema(package)
    jsonschema.Draft4Validator.check_schema(release)
    return jsonschema.Draft4Validator(package, registry=registry, format_checker=checker())


def main(argv):
    is_strict = "--no-strict" not in argv
    files = [a for a in argv if not a.startswith("--")]
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    v = validator(is_strict)
    bad = 0
    for name in files:
        doc = json.loads(Path(name).read_text())
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path)
            print(f"{name}: /{where}: {e.message}")
        bad += len(errors)
        if not errors:
            print(f"{name}: valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
