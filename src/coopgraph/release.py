"""Versioned releases: releases/<VERSION>/ with every dump, the description, the validation
report, SHA256SUMS and a changelog entry; byte-identical when rebuilt from the same sources.

A release is written into a hidden temporary folder beside its target, then renamed: a killed
or failing release leaves no half-written folder, and the folders of earlier releases are never
opened for writing. releases/CHANGELOG.md is regenerated from every release's CHANGES.md (and
written atomically before the rename), so it is always consistent with the folders: after a
release killed between the two, the next release puts it right.

Nothing reads the clock: the release date is an argument (the CLI defaults it to today and says
so), so the same version, date and sources give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.compare import to_canonical_graph

from . import description, export, faults, ids
from .build import bind_prefixes
from .diff import Side, compare, read_side, report as diff_report
from .errors import CoopgraphError, InputError
from .pipeline import Toolkit, ValidationFailed, class_counts
from .project import Project
from .validate import Report

CHANGELOG = "CHANGELOG.md"
CHANGES = "CHANGES.md"
SUMS = "SHA256SUMS"
REPORT_TTL = "validation-report.ttl"
REPORT_TXT = "validation-report.txt"
_STAGING = re.compile(r"^\.release-.+\.tmp$")
#: Entities listed one by one in a changelog entry (the full list: coopgraph diff).
CHANGELOG_ENTITIES = 25


class ReleaseExists(CoopgraphError):
    """The release folder exists already: a release is never overwritten."""


@dataclass
class ReleaseResult:
    version: str
    date: str
    folder: Path
    previous: str | None
    files: dict[str, int]  # name -> bytes
    entry: str


def releases_dir(project: Project, out_dir: Path | None = None) -> Path:
    """The folder that holds the releases (default: releases/ in the project)."""
    return out_dir if out_dir is not None else project.root / "releases"


def existing_releases(folder: Path) -> list[str]:
    """Versions of the complete releases in ``folder`` (with a SHA256SUMS), oldest first."""
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir()
             if p.is_dir() and ids.VERSION_RE.match(p.name) and (p / SUMS).is_file()]
    return sorted(found, key=ids.version_key)


def previous_release(folder: Path, version: str) -> str | None:
    """The newest release older than ``version``, if any."""
    older = [v for v in existing_releases(folder) if ids.version_key(v) < ids.version_key(version)]
    return older[-1] if older else None


def report_turtle(report: Report) -> str:
    """The SHACL report graph as Turtle, blank nodes relabelled canonically (byte-stable)."""
    graph = Graph()
    bind_prefixes(graph)
    for triple in to_canonical_graph(report.graph):
        graph.add(triple)
    return graph.serialize(format="turtle")


def sha256sums(files: dict[str, bytes]) -> str:
    """``sha256sum -c`` input for ``files``: '<hex>  <name>' lines sorted by name."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))


def _entry(version: str, date: str, previous: str | None, kit: Toolkit, report: Report,
           sizes: dict[str, bytes], prev_diff: str | None, counts: dict[str, int] | None) -> str:
    union = kit.loaded.union()
    per_class = class_counts(union)
    lines = [f"## {version} ({date})", ""]
    n_graphs = len(export.graph_names(kit.loaded.dataset))
    quads = sum(1 for _ in kit.loaded.dataset.quads((None, None, None, None)))
    lines.append(f"- {len(union)} triples, {quads} quads in {n_graphs} named graphs; "
                 f"{sum(per_class.values())} typed entities")
    lines.append("- entities per class: " + ", ".join(f"{c} {n}" for c, n in per_class.items()))
    lines.append(f"- validation: {report.summary()}")
    if previous is None:
        lines.append("- first release")
    else:
        assert counts is not None
        lines.append(f"- since {previous}: +{counts['added_entities']} entities, -{counts['removed_entities']} "
                     f"entities, {counts['changed_entities']} changed; +{counts['added_statements']} "
                     f"-{counts['deleted_statements']} quads (`coopgraph diff releases/{previous} "
                     f"releases/{version}` for the details and a patch)")
        if prev_diff:
            lines.append("")
            lines.append("```")
            lines.extend(prev_diff.rstrip("\n").splitlines()[2:])
            lines.append("```")
    lines.append("- files: " + ", ".join(f"{name} ({len(data):,} bytes)" for name, data in sizes.items()
                                         if name.startswith("coopgraph.")))
    return "\n".join(lines) + "\n"


def _changelog(folder: Path, entries: dict[str, str]) -> str:
    """releases/CHANGELOG.md: every release's entry, newest first."""
    head = ("# coopgraph releases\n\n"
            "Generated by `coopgraph release` from each release's CHANGES.md; do not edit. Verify a\n"
            "release with `cd releases/VERSION && sha256sum -c SHA256SUMS`.\n")
    ordered = sorted(entries.items(), key=lambda kv: ids.version_key(kv[0]), reverse=True)
    return head + "".join("\n" + text for _v, text in ordered)


def clean_stale(folder: Path) -> list[Path]:
    """Remove what a killed release left: hidden .release-*.tmp folders, temporary changelog files."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        if path.is_dir() and _STAGING.match(path.name):
            shutil.rmtree(path)
            removed.append(path)
        elif path.is_file() and path.name.startswith(f".{CHANGELOG}.") and path.name.endswith(".tmp"):
            path.unlink()
            removed.append(path)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def release(project: Project, version: str, *, date: dt.date, out_dir: Path | None = None,
            toolkit: Toolkit | None = None) -> ReleaseResult:
    """Build release ``version`` dated ``date`` into releases/<version>/; refuse an existing one."""
    try:
        ids.check_version(version)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    folder = releases_dir(project, out_dir)
    target = folder / version
    if target.exists():
        raise ReleaseExists(f"{project.relative(target)} exists: a release is never overwritten; "
                            "choose a new version")
    kit = toolkit or Toolkit(project)
    report = kit.validate()
    if not report.conforms:
        raise ValidationFailed(report)
    clean_stale(folder)
    ds = kit.loaded.dataset
    day = date.isoformat()
    previous = previous_release(folder, version)
    texts: dict[str, str] = export.render_store(kit.store, context=kit.context, loader=kit.loader)
    texts.update(description.render(ds, texts, version=version, issued=day, previous_version=previous))
    texts[REPORT_TTL] = report_turtle(report)
    texts[REPORT_TXT] = report.text()
    files = {name: text.encode("utf-8") for name, text in texts.items()}
    counts = prev_text = None
    if previous is not None:
        old = read_side(folder / previous)
        new = Side(label=f"releases/{version}", quads=_quads(ds), has_graphs=True)
        old.label = f"releases/{previous}"
        change = compare(old, new)
        counts = change.counts()
        prev_text = diff_report(change, limit=CHANGELOG_ENTITIES)
    entry = _entry(version, day, previous, kit, report, files, prev_text, counts)
    files[CHANGES] = entry.encode("utf-8")
    files[SUMS] = sha256sums(files).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".release-{version}-", suffix=".tmp", dir=folder))
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(staging / name, 0o644)
        os.chmod(staging, 0o755)
        _fsync_dir(staging)
        faults.point("release:staged")
        entries = {v: (folder / v / CHANGES).read_text(encoding="utf-8") for v in existing_releases(folder)
                   if (folder / v / CHANGES).is_file()}
        entries[version] = entry
        export.write_atomic(folder / CHANGELOG, _changelog(folder, entries))
        os.rename(staging, target)
        _fsync_dir(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ReleaseResult(version=version, date=day, folder=target, previous=previous,
                         files={name: len(data) for name, data in files.items()}, entry=entry)


def _quads(ds) -> set:
    out = set()
    for s, p, o, g in ds.quads((None, None, None, None)):
        name = g.identifier if isinstance(g, Graph) else g
        out.add((s, p, o, URIRef(str(name))))
    return out
