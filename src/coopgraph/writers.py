"""Fast dump writers: rdflib's Turtle and TriG layout and pyld's JSON-LD document, byte for byte.

rdflib's serializers and pyld's compaction cost tens of microseconds per triple (a million
triples: minutes). These writers start from sorted N-Triples lines (which the Oxigraph store
produces in Rust) and write the *same bytes* as :func:`coopgraph.export.turtle`,
:func:`coopgraph.export.trig` and :func:`coopgraph.export.jsonld_document`:

* Turtle: rdflib's subject order (rdfs:Class members first, then by number of references, then
  by IRI), predicate order (rdf:type, rdfs:label, then IRI order), object order (rdflib's term
  ordering), prefix choice (rdflib's ``compute_qname`` on a graph with our prefixes, only the
  prefixes used) and literal forms (rdflib's ``_literal_n3``);
* JSON-LD: pyld's ``fromRdf`` node map and compaction, with each (property, kind of value)
  compacted once by pyld itself and reused; written as ``json.dumps(indent=2, sort_keys=True)``
  would write it, node by node, so the whole document never sits in memory as Python objects.

What they do not handle (blank nodes, RDF lists, predicates without a prefix, JSON-LD contexts
with containers, reverse or scoped terms) raises :class:`Unsupported`, and the caller falls back
to rdflib or pyld. tests/test_writers.py checks byte identity on the real data and on synthetic
data.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Iterable, Iterator

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF_NS + "type"
RDFS_CLASS = "http://www.w3.org/2000/01/rdf-schema#Class"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = RDF_NS + "langString"
LIST_TERMS = (RDF_NS + "first", RDF_NS + "rest", RDF_NS + "nil")
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NT_ESCAPE = re.compile(r'\\(.)')
_NT_UNESCAPE = {"\\": "\\", "n": "\n", '"': '"', "r": "\r"}


class Unsupported(Exception):
    """This graph or context needs the general (slow) writer."""


# ----------------------------------------------------------------------------- N-Triples lines

def split_line(line: str) -> tuple[str, str, str]:
    """(subject IRI, predicate IRI, object as written) of an N-Triples line without blank nodes."""
    if not line.startswith("<"):
        raise Unsupported("blank node subject")
    end = line.index("> <", 1)
    subject = line[1:end]
    pend = line.index("> ", end + 3)
    predicate = line[end + 3:pend]
    obj = line[pend + 2:-2]
    if obj.startswith("_:"):
        raise Unsupported("blank node object")
    return subject, predicate, obj


def parse_object(obj: str) -> tuple[str, str, str | None, str | None]:
    """(kind, value, datatype, language) of an object as written: kind 'iri' or 'literal'."""
    if obj.startswith("<"):
        return "iri", obj[1:-1], None, None
    close = obj.rindex('"')
    lexical = obj[1:close]
    if "\\" in lexical:
        lexical = _NT_ESCAPE.sub(lambda m: _NT_UNESCAPE.get(m.group(1), "\\" + m.group(1)), lexical)
    rest = obj[close + 1:]
    if rest.startswith("@"):
        return "literal", lexical, None, rest[1:]
    if rest.startswith("^^<"):
        return "literal", lexical, rest[3:-1], None
    return "literal", lexical, None, None


def by_subject(lines: Iterable[str]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(subject, [(predicate, object as written)]) from sorted N-Triples lines."""
    current, pairs = None, []
    for line in lines:
        s, p, o = split_line(line)
        if s != current:
            if current is not None:
                yield current, pairs
            current, pairs = s, []
        pairs.append((p, o))
    if current is not None:
        yield current, pairs


def by_subject_sorted(lines: list[str]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """by_subject() in subject IRI order (sorted lines put "<a/b> " before "<a> ")."""
    blocks: list[tuple[str, int, int]] = []
    current, start = None, 0
    for index, line in enumerate(lines):
        subject = line[1:line.index("> ", 1)] if line.startswith("<") else None
        if subject is None:
            raise Unsupported("blank node subject")
        if subject != current:
            if current is not None:
                blocks.append((current, start, index))
            current, start = subject, index
    if current is not None:
        blocks.append((current, start, len(lines)))
    blocks.sort()
    for subject, begin, end in blocks:
        pairs = []
        for line in lines[begin:end]:
            _s, p, o = split_line(line)
            pairs.append((p, o))
        yield subject, pairs


# ----------------------------------------------------------------------------- Turtle

def _turtle_quote(text: str) -> str:
    """rdflib's Literal._quote_encode."""
    if "\n" in text:
        encoded = text.replace("\\", "\\\\")
        if '"""' in text:
            encoded = encoded.replace('"""', '\\"\\"\\"')
        if encoded[-1] == '"' and encoded[-2] != "\\":
            encoded = encoded[:-1] + "\\" + '"'
        return '"""%s"""' % encoded.replace("\r", "\\r")
    return '"%s"' % text.replace("\n", "\\n").replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")


class TurtleWriter:
    """rdflib's TurtleSerializer output for a graph given as sorted N-Triples lines."""

    def __init__(self, namespace_graph):
        # namespace_graph: an rdflib Graph carrying the prefixes (bind_prefixes), as export.turtle.
        self.graph = namespace_graph
        self.nm = namespace_graph.namespace_manager
        self._pnames: dict[tuple[str, bool], str | None] = {}
        self.used: dict[str, str] = {}

    def pname(self, iri: str, gen_prefix: bool) -> str | None:
        """TurtleSerializer.get_pname, memoised; a predicate needing a new prefix is Unsupported."""
        key = (iri, gen_prefix)
        if key in self._pnames:
            found = self._pnames[key]
            if found is not None:
                self.used[found[0]] = found[1]
                return found[2]
            return None
        from rdflib import URIRef
        uri = URIRef(iri)
        try:
            parts = self.nm.compute_qname(uri, generate=False)
        except Exception:
            prefix = self.graph.store.prefix(uri)
            if prefix is not None:
                parts = (prefix, uri, "")
            elif gen_prefix:
                raise Unsupported(f"predicate <{iri}> has no prefix (rdflib would invent one)") from None
            else:
                self._pnames[key] = None
                return None
        prefix, namespace, local = parts
        local = local.replace("(", r"\(").replace(")", r"\)")
        local = _PCT.sub("\\%", local)
        if local.endswith("."):
            self._pnames[key] = None
            return None
        if prefix.startswith("_"):
            raise Unsupported("prefix starting with _")
        text = f"{prefix}:{local}"
        self._pnames[key] = (prefix, str(namespace), text)
        self.used[prefix] = str(namespace)
        return text

    def iri_label(self, iri: str, verb: bool = False) -> str:
        if verb and iri == RDF_TYPE:
            return "a"
        if iri == RDF_NS + "nil":
            return "()"
        found = self.pname(iri, verb)
        if found:
            return found
        from rdflib import URIRef
        return URIRef(iri).n3()

    def literal_label(self, lexical: str, datatype: str | None, language: str | None) -> str:
        if language:
            return f"{_turtle_quote(lexical)}@{language}"
        if datatype is None:
            return _turtle_quote(lexical)
        from rdflib import Literal, URIRef
        literal = Literal(lexical, datatype=URIRef(datatype))
        return literal._literal_n3(use_plain=True, qname_callback=lambda dt: self.pname(str(dt), False))

    def object_label(self, obj: str) -> str:
        kind, value, datatype, language = parse_object(obj)
        if kind == "iri":
            return self.iri_label(value)
        return self.literal_label(value, datatype, language)

    def _prepare(self, lines: list[str]):
        """Subject blocks (subject, first line, end line), references per object, rdfs:Class members.

        Only indices into ``lines`` are kept (not the parsed triples), so a million-triple graph
        costs little beyond its lines; each block is parsed again when it is written.
        """
        refs: Counter[str] = Counter()
        blocks: list[tuple[str, int, int]] = []
        classes: list[str] = []
        current, start = None, 0
        rdfs_class = f"<{RDFS_CLASS}>"
        for index, line in enumerate(lines):
            subject, p, o = split_line(line)
            if subject != current:
                if current is not None:
                    blocks.append((current, start, index))
                current, start = subject, index
                self.pname(subject, False)
            if p in LIST_TERMS or o == f"<{RDF_NS}nil>":
                raise Unsupported("RDF list")
            if p != RDF_TYPE:
                self.pname(p, True)
            if o.startswith("<"):
                refs[o[1:-1]] += 1
                self.pname(o[1:-1], False)
            else:
                _kind, _value, datatype, _lang = parse_object(o)
                if datatype is not None:
                    self.pname(datatype, False)
            if p == RDF_TYPE and o == rdfs_class:
                classes.append(subject)
        if current is not None:
            blocks.append((current, start, len(lines)))
        return blocks, refs, classes

    def chunks(self, lines: list[str]) -> Iterator[str]:
        """The Turtle document (what ``graph.serialize(format="turtle")`` returns), in pieces."""
        self.used = {}
        blocks, refs, classes = self._prepare(lines)
        class_set = set(classes)
        where = {subject: (begin, end) for subject, begin, end in blocks}
        order = sorted(classes) + [s for _r, s in sorted((refs[s], s) for s, _b, _e in blocks if s not in class_set)]
        del blocks, refs
        yield "".join(f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in sorted(self.used.items()))
        out: list[str] = []
        for subject in order:
            begin, end = where[subject]
            props: dict[str, list[str]] = {}
            for line in lines[begin:end]:
                _s, p, o = split_line(line)
                props.setdefault(p, []).append(o)
            out.append("\n" + self.iri_label(subject))
            predicates = [p for p in (RDF_TYPE, RDFS_LABEL) if p in props]
            predicates += sorted(p for p in props if p not in (RDF_TYPE, RDFS_LABEL))
            first = True
            for predicate in predicates:
                if first:
                    out.append(" " + self.iri_label(predicate, verb=True))
                    first = False
                else:
                    out.append(" ;\n    " + self.iri_label(predicate, verb=True))
                objects = self._sorted_objects(props[predicate])
                out.append(" " + self.object_label(objects[0]))
                for obj in objects[1:]:
                    out.append(",\n        " + self.object_label(obj))
            out.append(" .\n")
            if len(out) > 20_000:
                yield "".join(out)
                out = []
        out.append("\n")
        yield "".join(out)

    def write(self, lines: list[str]) -> str:
        """The Turtle document as one string."""
        return "".join(self.chunks(lines))

    @staticmethod
    def _sorted_objects(objects: list[str]) -> list[str]:
        """Objects in rdflib's term order (sortProperties sorts rdflib terms)."""
        if len(objects) == 1:
            return objects
        if all(o.startswith("<") for o in objects):
            return sorted(objects, key=lambda o: o[1:-1])
        from rdflib import Literal, URIRef
        terms = []
        for o in objects:
            kind, value, datatype, language = parse_object(o)
            term = URIRef(value) if kind == "iri" else Literal(
                value, lang=language, datatype=URIRef(datatype) if datatype else None)
            terms.append((term, o))
        terms.sort(key=lambda pair: pair[0])
        return [o for _t, o in terms]


def turtle(lines: list[str], namespace_graph) -> str:
    """Turtle for the graph whose sorted N-Triples lines are ``lines`` (Unsupported if needed)."""
    return TurtleWriter(namespace_graph).write(lines)


def trig(graphs: Iterable[tuple[str, list[str]]], make_graph, prefixes: dict[str, str]) -> str:
    """TriG as export.trig writes it, from (graph name, sorted N-Triples lines) in name order."""
    from rdflib import URIRef
    parts: list[str] = []
    for name, lines in graphs:
        graph = make_graph()
        text = TurtleWriter(graph).write(lines)
        body = [line for line in text.splitlines() if not line.startswith("@prefix")]
        label = graph.namespace_manager.normalizeUri(URIRef(name))
        inner = "\n".join(("    " + line) if line.strip() else "" for line in body).strip("\n")
        parts.append(f"{label} {{\n{inner}\n}}\n")
    header = "".join(f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in sorted(prefixes.items()))
    return header + "\n" + "\n".join(parts)


# ----------------------------------------------------------------------------- JSON-LD

class JsonLdWriter:
    """pyld's compacted JSON-LD of a graph (``jsonld.compact(jsonld.from_rdf(nt), context)``)."""

    def __init__(self, context: dict, loader):
        from pyld import jsonld
        self.context = context
        self.proc = jsonld.JsonLdProcessor()
        self.options = {"base": "", "compactArrays": True, "graph": False, "skipExpansion": True,
                        "activeCtx": False, "documentLoader": loader, "extractAllScripts": False,
                        "processingMode": "json-ld-1.1", "link": False}
        self.options["contextResolver"] = jsonld.ContextResolver({}, loader)
        self.active = self.proc.process_context(self.proc._get_initial_context(self.options),
                                                {"@context": context}, self.options)
        for term, mapping in self.active["mappings"].items():
            if not mapping:
                continue
            if mapping.get("reverse") or "@container" in mapping or "@nest" in mapping \
                    or "@context" in mapping or mapping.get("@type") == "@vocab" or "@direction" in mapping \
                    or term.startswith("@"):
                raise Unsupported(f"context term {term!r} needs the general JSON-LD compaction")
        if "@language" in self.active or "@direction" in self.active:
            raise Unsupported("a default language or direction in the context")
        self.id_key = self.proc._compact_iri(self.active, "@id")
        self.type_key = self.proc._compact_iri(self.active, "@type")
        self.graph_key = self.proc._compact_iri(self.active, "@graph")
        self.term_iris = {m["@id"] for m in self.active["mappings"].values() if m and "@id" in m}
        self._iri_cache: dict[tuple[str, bool], str] = {}
        self._templates: dict[tuple, tuple[str, str, object]] = {}

    def compact_iri(self, iri: str, vocab: bool) -> str:
        key = (iri, vocab)
        found = self._iri_cache.get(key)
        if found is None:
            found = self.proc._compact_iri(self.active, iri, vocab=vocab, base=None if vocab else "")
            self._iri_cache[key] = found
        return found

    def _template(self, predicate: str, item: dict) -> tuple[str, str, object]:
        """(term, how to write the value, extra) for one kind of value of one property."""
        if "@id" in item:
            signature = (predicate, "@id", item["@id"] in self.term_iris)
        else:
            signature = (predicate, "@value", item.get("@type"), item.get("@language"))
        found = self._templates.get(signature)
        if found is not None:
            return found
        term = self.proc._compact_iri(self.active, predicate, item, vocab=True, reverse=False)
        if "@id" in item:
            probe = dict(item)
            compacted = self.proc._compact(self.active, term, probe, self.options)
            mapping = self.active["mappings"].get(term) or {}
            vocab = mapping.get("@type") == "@vocab"
            shape = ("iri-string", vocab) if isinstance(compacted, str) else ("iri-object", vocab)
            if not isinstance(compacted, str) and set(compacted) != {self.id_key}:
                raise Unsupported(f"node reference compacts to {compacted!r}")
        else:
            sentinel = "\u0000coopgraph-probe\u0000"
            probe = dict(item, **{"@value": sentinel})
            compacted = self.proc._compact(self.active, term, probe, self.options)
            if compacted == sentinel:
                shape = ("value-string", None)
            elif isinstance(compacted, dict):
                keys = {k: v for k, v in compacted.items() if v != sentinel}
                value_key = next(k for k, v in compacted.items() if v == sentinel)
                shape = ("value-object", (value_key, keys))
            else:
                raise Unsupported(f"value compacts to {compacted!r}")
        found = (term, shape[0], shape[1])
        self._templates[signature] = found
        return found

    def node(self, subject: str, pairs: list[tuple[str, str]]) -> dict | None:
        """The compacted node object for one subject (None when it has nothing but an @id)."""
        types: list[str] = []
        props: dict[str, list[dict]] = {}
        for p, o in pairs:
            if p in LIST_TERMS or o == f"<{RDF_NS}nil>":
                raise Unsupported("RDF list")
            kind, value, datatype, language = parse_object(o)
            if p == RDF_TYPE and kind == "iri":
                types.append(value)
                continue
            if kind == "iri":
                item = {"@id": value}
            elif language:
                item = {"@value": value, "@language": language}
            elif datatype and datatype not in (XSD_STRING,):
                if datatype == RDF_NS + "JSON" or datatype.startswith("https://www.w3.org/ns/i18n#"):
                    raise Unsupported("rdf:JSON or i18n literal")
                item = {"@value": value, "@type": datatype}
            else:
                item = {"@value": value}
            props.setdefault(p, []).append(item)
        if not types and not props:
            return None
        out: dict[str, object] = {}
        grouped: dict[str, list] = {}
        for p in sorted(props):
            for item in props[p]:
                term, how, extra = self._template(p, item)
                if how == "iri-string":
                    value = self.compact_iri(item["@id"], extra)
                elif how == "iri-object":
                    value = {self.id_key: self.compact_iri(item["@id"], extra)}
                elif how == "value-string":
                    value = item["@value"]
                else:
                    value_key, keys = extra
                    value = dict(keys)
                    value[value_key] = item["@value"]
                grouped.setdefault(term, []).append(value)
        out[self.id_key] = self.compact_iri(subject, False)
        if types:
            compacted_types = [self.compact_iri(t, True) for t in types]
            out[self.type_key] = compacted_types[0] if len(compacted_types) == 1 else compacted_types
        for term, values in grouped.items():
            if term in out:
                raise Unsupported(f"term {term!r} collides with a keyword alias")
            out[term] = values[0] if len(values) == 1 else values
        return out

    @staticmethod
    def check(lines: list[str]) -> None:
        """Raise Unsupported, before anything is written, for what only pyld handles."""
        for line in lines:
            if line.startswith("_:") or "> _:" in line or line.endswith(f"<{RDF_NS}JSON>") \
                    or "<https://www.w3.org/ns/i18n#" in line or f"<{RDF_NS}first>" in line \
                    or f"<{RDF_NS}rest>" in line or f"<{RDF_NS}nil>" in line:
                raise Unsupported("blank node, RDF list or JSON/i18n literal")

    def chunks(self, lines: Iterable[str]) -> Iterator[str]:
        """The document as ``export.dumps_json`` writes it, in pieces."""
        lines = lines if isinstance(lines, list) else list(lines)
        nodes = (n for n in (self.node(s, pairs) for s, pairs in by_subject_sorted(lines)) if n is not None)
        first = next(nodes, None)
        second = next(nodes, None) if first is not None else None
        if first is None:
            yield _dump({"@context": self.context})
            return
        if second is None:
            yield _dump({"@context": self.context, **first})
            return
        head = {"@context": self.context, self.graph_key: []}
        keys = sorted(head)
        if keys != ["@context", self.graph_key]:
            raise Unsupported("unexpected key order")
        yield "{\n  " + json.dumps("@context") + ": " + _indent(json.dumps(self.context, indent=2, sort_keys=True,
                                                                        ensure_ascii=False), 2)
        yield ",\n  " + json.dumps(self.graph_key, ensure_ascii=False) + ": [\n"
        yield "    " + _node_text(first)
        yield ",\n    " + _node_text(second)
        for node in nodes:
            yield ",\n    " + _node_text(node)
        yield "\n  ]\n}\n"


def _dump(document) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


_ENC = json.JSONEncoder(ensure_ascii=False).encode


def _node_text(node: dict) -> str:
    """json.dumps(node, indent=2, sort_keys=True, ensure_ascii=False), nested four spaces deep."""
    parts = []
    for key in sorted(node):
        value = node[key]
        parts.append(f"      {_ENC(key)}: {_value_text(value, 6)}")
    return "{\n" + ",\n".join(parts) + "\n    }"


def _value_text(value, depth: int) -> str:
    if isinstance(value, str):
        return _ENC(value)
    pad = " " * (depth + 2)
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(pad + _value_text(v, depth + 2) for v in value) + "\n" + " " * depth + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + ",\n".join(f"{pad}{_ENC(k)}: {_value_text(value[k], depth + 2)}" for k in sorted(value)) \
            + "\n" + " " * depth + "}"
    return json.dumps(value, ensure_ascii=False)
