"""The W3C Reconciliation API 0.2 JSON Schemas, read in place from ../shared/w3c (never copied)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


@cache
def registry(schema_dir: Path) -> Registry:
    """Every schema under its ``$id``, so relative ``$ref``s (``type.json``) resolve offline."""
    resources = []
    for path in sorted(schema_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "$id" in doc:
            resources.append((doc["$id"], Resource.from_contents(doc, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


@cache
def validator(schema_dir: Path, name: str) -> Draft7Validator:
    """A Draft 7 validator for ``name`` (the files say ``$schema: http://json-schema.org/schema#``,
    which names no draft; they use draft-07 keywords)."""
    doc = json.loads((schema_dir / name).read_text(encoding="utf-8"))
    return Draft7Validator(doc, registry=registry(schema_dir))


def errors(schema_dir: Path, name: str, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(schema_dir, name).iter_errors(instance)]
