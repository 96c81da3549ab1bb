"""Mapping sets: data/mappings/*.sssom.tsv, the source of truth for links to other datasets.

Each file is an SSSOM table (https://mapping-commons.github.io/sssom/): a ``#``-prefixed YAML
header (``curie_map``, ``mapping_set_id``, ``license``, ...) and a TSV table, one mapping a row.
This module reads them strictly (every error names ``file:line`` and what to do), writes them
(``coopgraph accept``), and turns them into triples for the build.

The rule from mappings to triples (README "Links to other datasets"):

* ``skos:exactMatch`` gives ``skos:exactMatch``; in a set whose header says ``identity_links: true``
  (the target identifies the very same thing: the same city, the same organisation, as Wikidata,
  GeoNames and ROR do) it also gives ``schema:sameAs``. Nowhere else is ``schema:sameAs`` written.
* ``skos:closeMatch``, ``broadMatch``, ``narrowMatch``, ``relatedMatch`` give that SKOS triple only.
* a row with ``predicate_modifier: Not`` is a rejected candidate: no triple; it stops
  ``coopgraph link`` from proposing that pair again.
* the triples go into the named graph of the set's source: ``mapping_provider`` in the header
  (``https://w3id.org/coopgraph/source/KEY``, described in data/sources.trig), so
  ``GRAPH ?g { ?x schema:sameAs ?y }`` still says which source supports a link.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Dataset, URIRef

from . import ids
from .errors import InputError
from .namespaces import SDO, SKOS, SRC

#: Where mapping sets live, relative to the project root.
MAPPINGS_DIR = "mappings"
SUFFIX = ".sssom.tsv"

SEMAPV = "https://w3id.org/semapv/vocab/"
SSSOM_NS = "https://w3id.org/sssom/"
#: Prefixes every SSSOM file may use without declaring them (SSSOM spec, "built-in prefixes").
BUILTIN_PREFIXES = {
    "sssom": SSSOM_NS,
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": str(SKOS),
    "semapv": SEMAPV,
}

#: The SSSOM predicates we build, and the triples each gives.
PREDICATES = {
    "skos:exactMatch": SKOS.exactMatch,
    "skos:closeMatch": SKOS.closeMatch,
    "skos:broadMatch": SKOS.broadMatch,
    "skos:narrowMatch": SKOS.narrowMatch,
    "skos:relatedMatch": SKOS.relatedMatch,
}
#: Justifications (SEMAPV) a row may give.
JUSTIFICATIONS = {
    "semapv:ManualMappingCuration", "semapv:LexicalMatching", "semapv:LogicalReasoning",
    "semapv:CompositeMatching", "semapv:UnspecifiedMatching", "semapv:MappingReview",
    "semapv:SemanticSimilarityThresholdMatching", "semapv:LexicalSimilarityThresholdMatching",
    "semapv:MappingChaining", "semapv:MappingInversion", "semapv:StructuralMatching",
    "semapv:InstanceBasedMatching", "semapv:BackgroundKnowledgeBasedMatching",
}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
#: SSSOM 1.0 mapping slots (columns) this reader accepts.
COLUMNS = (
    "subject_id", "subject_label", "subject_category", "subject_type", "subject_source",
    "subject_source_version", "subject_match_field", "subject_preprocessing",
    "predicate_id", "predicate_label", "predicate_modifier", "predicate_type",
    "object_id", "object_label", "object_category", "object_type", "object_source",
    "object_source_version", "object_match_field", "object_preprocessing",
    "mapping_justification", "author_id", "author_label", "reviewer_id", "reviewer_label",
    "creator_id", "creator_label", "license", "mapping_provider", "mapping_source",
    "mapping_cardinality", "mapping_tool", "mapping_tool_version", "mapping_date",
    "publication_date", "confidence", "curation_rule", "curation_rule_text", "match_string",
    "semantic_similarity_score", "semantic_similarity_measure", "see_also",
    "issue_tracker_item", "other", "comment", "similarity_score", "similarity_measure",
)
#: SSSOM 1.0 mapping set slots (header keys) this reader accepts, plus our declared extension.
HEADER_KEYS = set(COLUMNS) | {
    "curie_map", "mapping_set_id", "mapping_set_version", "mapping_set_source", "mapping_set_title",
    "mapping_set_description", "sssom_version", "extension_definitions", "issue_tracker",
}
#: Our one extension slot (declared in each header under extension_definitions).
IDENTITY_SLOT = "identity_links"
IDENTITY_PROPERTY = "https://w3id.org/coopgraph/ontology#identityLinks"

#: Column order of the files coopgraph writes (a file may hold any subset, in any order).
WRITE_COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id", "object_label",
    "mapping_justification", "confidence", "author_label", "reviewer_id", "reviewer_label",
    "mapping_date", "mapping_tool", "match_string", "comment",
)

#: Identifier schemes whose IRIs we check strictly: host, what it is, and the one good form.
OBJECT_PATTERNS: dict[str, tuple[str, re.Pattern]] = {
    "wikidata.org": ("Wikidata item", re.compile(r"^http://www\.wikidata\.org/entity/Q[1-9][0-9]*$")),
    "geonames.org": ("GeoNames feature", re.compile(r"^https://sws\.geonames\.org/[1-9][0-9]*/$")),
    "ror.org": ("ROR organisation", re.compile(r"^https://ror\.org/0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$")),
}
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*):(\S*)$")


@dataclass(frozen=True)
class Mapping:
    """One row of a mapping set, with CURIEs expanded, and where it was written."""

    subject: URIRef
    predicate: str  # the CURIE, e.g. skos:exactMatch
    object: URIRef
    justification: str
    negated: bool
    values: dict[str, str]  # every column of the row, as written
    line: int
    provider: URIRef  # the source graph that holds the triples

    @property
    def confidence(self) -> float | None:
        text = self.values.get("confidence", "")
        return float(text) if text else None


@dataclass
class MappingSet:
    """One .sssom.tsv file: its header, its rows, its column order."""

    path: Path
    label: str  # path as shown in messages
    header: dict
    header_text: str  # the header lines as written (with their '#')
    columns: list[str]
    rows: list[Mapping] = field(default_factory=list)

    @property
    def curie_map(self) -> dict[str, str]:
        return {**BUILTIN_PREFIXES, **(self.header.get("curie_map") or {})}

    @property
    def identity(self) -> bool:
        return self.header.get(IDENTITY_SLOT) is True

    def compress(self, iri: str) -> str:
        """The CURIE of ``iri`` with this set's curie_map (longest namespace first)."""
        return compress(iri, self.curie_map)

    def links(self) -> list[Mapping]:
        """The rows that give triples (not the rejected ones)."""
        return [m for m in self.rows if not m.negated]


def compress(iri: str, curie_map: dict[str, str]) -> str:
    """``prefix:local`` for ``iri``; ValueError when no namespace of ``curie_map`` fits."""
    best = None
    for prefix, ns in curie_map.items():
        if iri.startswith(ns) and len(iri) > len(ns) and (best is None or len(ns) > len(best[1])):
            best = (prefix, ns)
    if best is None:
        raise ValueError(f"no prefix in the curie_map for <{iri}>")
    return f"{best[0]}:{iri[len(best[1]):]}"


def expand(curie: str, curie_map: dict[str, str], where: str, column: str) -> str:
    """The IRI of ``curie``; InputError naming ``where`` when the prefix is unknown."""
    match = _CURIE.match(curie)
    if not match or curie.startswith(("http://", "https://")):
        raise InputError(f"{where}: {column} {curie!r} is not a CURIE: SSSOM tables hold CURIEs "
                         "(prefix:local, with the prefix in the curie_map), not full IRIs")
    prefix, local = match.groups()
    if prefix not in curie_map:
        raise InputError(f"{where}: {column} {curie!r}: unknown CURIE prefix {prefix!r}; declare it in "
                         f"the header's curie_map (known: {', '.join(sorted(curie_map))})")
    return curie_map[prefix] + local


def check_object(iri: str, where: str) -> None:
    """Refuse a malformed identifier of a scheme we know (Wikidata, GeoNames, ROR)."""
    host = re.sub(r"^[a-z]+://(?:[^/]*\.)?([^./]+\.[^./]+)/.*$", r"\1", iri)
    if host in OBJECT_PATTERNS:
        what, pattern = OBJECT_PATTERNS[host]
        if not pattern.match(iri):
            raise InputError(f"{where}: object_id <{iri}> is not a well-formed {what} IRI "
                             f"(expected {pattern.pattern})")
    if not _ABSOLUTE.match(iri):
        raise InputError(f"{where}: object_id <{iri}> is not an absolute IRI")


# ----------------------------------------------------------------------------- reading

def split_header(text: str) -> tuple[list[str], int]:
    """The header lines (without their '#') and the index of the first table line."""
    lines = text.splitlines()
    header: list[str] = []
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        body = lines[i][1:]
        header.append(body[1:] if body.startswith(" ") else body)
        i += 1
    return header, i


def parse_header(label: str, header_lines: list[str], role: str = "set") -> dict:
    """The YAML header as a dict, checked; InputError with file:line otherwise."""
    if not header_lines:
        raise InputError(f"{label}:1: no SSSOM header: start the file with '# curie_map:', "
                         "'# mapping_set_id:' and '# license:' lines")
    try:
        header = yaml.safe_load("\n".join(header_lines))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1) if mark is not None else 1
        raise InputError(f"{label}:{line}: the YAML header does not parse: "
                         f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(header, dict):
        raise InputError(f"{label}:1: the header must be YAML key: value lines")

    def line_of(key: str) -> int:
        for n, text in enumerate(header_lines, start=1):
            if text.startswith(f"{key}:"):
                return n
        return 1

    extensions = header.get("extension_definitions") or []
    declared = {e.get("slot_name") for e in extensions if isinstance(e, dict)}
    for key in header:
        if key not in HEADER_KEYS and key not in declared:
            raise InputError(f"{label}:{line_of(key)}: unknown header key {key!r}: not an SSSOM "
                             "mapping set slot, nor declared under extension_definitions")
    if IDENTITY_SLOT in header:
        if IDENTITY_SLOT not in declared:
            raise InputError(f"{label}:{line_of(IDENTITY_SLOT)}: {IDENTITY_SLOT} is an extension slot: "
                             f"declare it under extension_definitions (slot_name: {IDENTITY_SLOT}, "
                             "property: coop:identityLinks, type_hint: xsd:boolean)")
        if not isinstance(header[IDENTITY_SLOT], bool):
            raise InputError(f"{label}:{line_of(IDENTITY_SLOT)}: {IDENTITY_SLOT} must be true or false")
    required = ("curie_map", "mapping_set_id", "license") + (("mapping_provider",) if role == "set" else ())
    for key in required:
        if key not in header:
            hint = {"curie_map": "the prefixes of the CURIEs used in the table",
                    "mapping_set_id": "an absolute URI naming this set",
                    "license": "the licence URL, e.g. https://creativecommons.org/licenses/by/4.0/",
                    "mapping_provider": f"the source whose graph holds the links: {SRC}KEY, "
                                        "described in data/sources.trig"}[key]
            raise InputError(f"{label}:1: header misses {key}: give {hint}")
    curie_map = header["curie_map"]
    if not isinstance(curie_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _ABSOLUTE.match(v) for k, v in curie_map.items()):
        raise InputError(f"{label}:{line_of('curie_map')}: curie_map must map prefixes to absolute IRIs")
    for prefix, ns in curie_map.items():
        if prefix in BUILTIN_PREFIXES and BUILTIN_PREFIXES[prefix] != ns:
            raise InputError(f"{label}:{line_of('curie_map')}: prefix {prefix!r} is built into SSSOM "
                             f"as <{BUILTIN_PREFIXES[prefix]}>; do not redefine it")
    for key in required[1:]:
        if not isinstance(header[key], str) or not _ABSOLUTE.match(header[key]):
            raise InputError(f"{label}:{line_of(key)}: {key} must be an absolute URI")
    if role == "set" and not header["mapping_provider"].startswith(str(SRC)):
        raise InputError(f"{label}:{line_of('mapping_provider')}: mapping_provider must name one of our "
                         f"sources ({SRC}KEY) so the links go into that source's graph")
    return header


def read(path: Path, *, label: str | None = None, role: str = "set") -> MappingSet:
    """Read and check one mapping set; InputError names ``file:line`` and the fix.

    ``role="candidates"`` reads a candidate set (``coopgraph link`` output): no source needed, and
    lexical rows need no reviewer yet.
    """
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: cannot read: {exc}") from exc
    header_lines, first = split_header(text)
    header = parse_header(label, header_lines, role)
    lines = text.splitlines()
    if first >= len(lines) or not lines[first].strip():
        raise InputError(f"{label}:{first + 1}: no column header line after the YAML header")
    columns = lines[first].split("\t")
    for n, col in enumerate(columns):
        if col not in COLUMNS:
            raise InputError(f"{label}:{first + 1}: unknown column {col!r} (column {n + 1}): not an "
                             "SSSOM mapping slot")
        if columns.count(col) > 1:
            raise InputError(f"{label}:{first + 1}: column {col!r} appears twice")
    for col in REQUIRED_COLUMNS:
        if col not in columns:
            raise InputError(f"{label}:{first + 1}: missing required column {col!r} "
                             f"(SSSOM requires {', '.join(REQUIRED_COLUMNS)})")
    mset = MappingSet(path=path, label=label, header=header, header_text="\n".join(lines[:first]),
                      columns=columns)
    curie_map = mset.curie_map
    seen: dict[tuple, int] = {}
    for index in range(first + 1, len(lines)):
        line_no = index + 1
        raw = lines[index]
        if not raw.strip():
            continue
        where = f"{label}:{line_no}"
        cells = raw.split("\t")
        if len(cells) != len(columns):
            raise InputError(f"{where}: {len(cells)} fields, the column header has {len(columns)} "
                             "(fields are separated by one TAB each)")
        values = dict(zip(columns, cells))
        mset.rows.append(_row(values, curie_map, header, where, line_no, role))
        row = mset.rows[-1]
        key = (str(row.subject), row.predicate, str(row.object), row.negated)
        if key in seen:
            raise InputError(f"{where}: the same mapping as line {seen[key]}: remove one of them")
        seen[key] = line_no
    _check_consistency(mset)
    return mset


def _row(values: dict[str, str], curie_map: dict[str, str], header: dict, where: str, line_no: int,
         role: str = "set") -> Mapping:
    for col in REQUIRED_COLUMNS:
        if not values[col].strip():
            raise InputError(f"{where}: empty {col}")
    subject = expand(values["subject_id"], curie_map, where, "subject_id")
    if not ids.is_entity_iri(subject):
        raise InputError(f"{where}: subject_id {values['subject_id']!r} is not one of our entities "
                         f"({ids.ID}<kind>/<slug>)")
    predicate = values["predicate_id"]
    if predicate not in PREDICATES:
        extra = (" (identity is said by a skos:exactMatch row in a set with identity_links: true)"
                 if predicate in ("owl:sameAs", "schema:sameAs") else "")
        raise InputError(f"{where}: predicate_id {predicate!r} is not one we build: use one of "
                         f"{', '.join(PREDICATES)}{extra}")
    expand(predicate, curie_map, where, "predicate_id")
    obj = expand(values["object_id"], curie_map, where, "object_id")
    check_object(obj, where)
    justification = values["mapping_justification"]
    if justification not in JUSTIFICATIONS:
        raise InputError(f"{where}: mapping_justification {justification!r} is not a SEMAPV "
                         f"justification (e.g. semapv:ManualMappingCuration, semapv:LexicalMatching)")
    modifier = values.get("predicate_modifier", "")
    if modifier not in ("", "Not"):
        raise InputError(f"{where}: predicate_modifier {modifier!r}: leave it empty or write Not")
    confidence = values.get("confidence", "")
    if confidence:
        try:
            number = float(confidence)
        except ValueError:
            number = -1.0
        if not 0.0 <= number <= 1.0:
            raise InputError(f"{where}: confidence {confidence!r} must be a number from 0 to 1")
    for col in ("mapping_date", "publication_date"):
        if values.get(col):
            try:
                _dt.date.fromisoformat(values[col])
            except ValueError:
                raise InputError(f"{where}: {col} {values[col]!r} is not a date (YYYY-MM-DD)") from None
    if role == "set" and justification == "semapv:LexicalMatching" and not (values.get("reviewer_id") or values.get("reviewer_label")):
        raise InputError(f"{where}: a lexical candidate nobody reviewed: give reviewer_label (or accept "
                         "candidates with `coopgraph accept --reviewer NAME`)")
    for col in ("author_id", "reviewer_id", "creator_id"):
        if values.get(col):
            for part in values[col].split("|"):
                expand(part, curie_map, where, col)
    provider = values.get("mapping_provider") or header.get("mapping_provider") or ""
    if role == "set" and not provider.startswith(str(SRC)):
        raise InputError(f"{where}: mapping_provider must be one of our sources ({SRC}KEY)")
    return Mapping(subject=URIRef(subject), predicate=predicate, object=URIRef(obj),
                   justification=justification, negated=modifier == "Not", values=values,
                   line=line_no, provider=URIRef(provider))


def _check_consistency(mset: MappingSet) -> None:
    """No pair both asserted and rejected; in an identity set, one object per subject and back."""
    asserted = {(m.subject, m.object): m for m in mset.rows if not m.negated}
    for m in mset.rows:
        if m.negated and (m.subject, m.object) in asserted:
            other = asserted[(m.subject, m.object)]
            raise InputError(f"{mset.label}:{m.line}: rejects the pair that line {other.line} accepts: "
                             "keep one of them")
    if not mset.identity:
        return
    by_subject: dict[URIRef, Mapping] = {}
    by_object: dict[URIRef, Mapping] = {}
    for m in mset.rows:
        if m.negated or m.predicate != "skos:exactMatch":
            continue
        if m.subject in by_subject and by_subject[m.subject].object != m.object:
            first = by_subject[m.subject]
            raise InputError(f"{mset.label}:{m.line}: {m.values['subject_id']} already has an identity "
                             f"link to {first.values['object_id']} (line {first.line}); a thing has one "
                             "identifier in a target: keep one, or make the other a skos:closeMatch")
        if m.object in by_object and by_object[m.object].subject != m.subject:
            first = by_object[m.object]
            raise InputError(f"{mset.label}:{m.line}: {m.values['object_id']} is already the identity of "
                             f"{first.values['subject_id']} (line {first.line}): two of our entities "
                             "cannot both be the same thing")
        by_subject[m.subject] = m
        by_object[m.object] = m


def mapping_files(data_dir: Path) -> list[Path]:
    """The mapping set files of a project, sorted."""
    folder = data_dir / MAPPINGS_DIR
    return sorted(folder.glob("*" + SUFFIX)) if folder.is_dir() else []


# ----------------------------------------------------------------------------- triples

def add_to_dataset(ds: Dataset, mset: MappingSet, entities: set[URIRef], sources: set[URIRef]) -> int:
    """Add the triples of ``mset`` to ``ds``, each in its source's graph; returns how many."""
    added = 0
    for m in mset.links():
        where = f"{mset.label}:{m.line}"
        if m.subject not in entities:
            raise InputError(f"{where}: subject_id {m.values['subject_id']} is not an entity of the graph "
                             "(no rdf:type for it in data/*.trig): check the slug")
        if m.provider not in sources:
            key = str(m.provider)[len(str(SRC)):]
            raise InputError(f"{where}: source src:{key} is not described in data/sources.trig; add "
                             f"`src:{key} a coop:Source ; schema:name \"...\"@en .` there")
        graph = ds.graph(m.provider)
        for triple in triples(m, identity=mset.identity):
            graph.add(triple)
            added += 1
    return added


def triples(m: Mapping, *, identity: bool) -> list[tuple[URIRef, URIRef, URIRef]]:
    """The triples one accepted mapping gives (see the module docstring for the rule)."""
    if m.negated:
        return []
    out = [(m.subject, PREDICATES[m.predicate], m.object)]
    if identity and m.predicate == "skos:exactMatch":
        out.append((m.subject, SDO.sameAs, m.object))
    return out


# ----------------------------------------------------------------------------- writing

def format_rows(columns: list[str], rows: list[dict[str, str]]) -> str:
    """TSV lines for ``rows`` under ``columns`` (TABs and newlines in values become spaces)."""
    out = []
    for row in rows:
        out.append("\t".join(_clean(row.get(c, "")) for c in columns))
    return "\n".join(out) + ("\n" if out else "")


def _clean(value: object) -> str:
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def header_text(header: dict) -> str:
    """The '#'-prefixed YAML header lines for ``header`` (keys in the given order)."""
    body = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False)
    return "\n".join("# " + line if line else "#" for line in body.rstrip("\n").split("\n"))


def render(header: dict, columns: list[str], rows: list[dict[str, str]]) -> str:
    """A whole SSSOM TSV file."""
    return header_text(header) + "\n" + "\t".join(columns) + "\n" + format_rows(columns, rows)
