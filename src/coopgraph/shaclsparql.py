"""Validation that scales: SHACL Core shapes run as SPARQL queries on the store, pySHACL's report.

pySHACL walks an rdflib graph node by node in Python: on a million triples that is minutes and
gigabytes. Here each constraint of each shape becomes one SPARQL query over the store (focus nodes
from the targets, value nodes from the path, a FILTER that keeps the violations), so Oxigraph does
the walking. The results are then made into report entries by pySHACL's own constraint components
(``make_v_result``): the same focus, path, value, component, severity, source shape and message
text as a pySHACL run, and the same :class:`coopgraph.validate.Report`.

Translated (SHACL Core): targets (class with rdfs:subClassOf*, implicit class, node, subjectsOf,
objectsOf); every SHACL path; class, datatype, nodeKind, minCount, maxCount, minLength, maxLength,
pattern (+flags), languageIn, uniqueLang, in, hasValue, min/maxInclusive, min/maxExclusive,
equals, disjoint, lessThan, lessThanOrEquals, closed (+ignoredProperties), node, property, not,
and, or, xone. A shape using anything else (SHACL-SPARQL constraints, qualified value shapes,
SPARQL targets, custom components, rules) is validated by pySHACL instead (``use_shapes``) and
:attr:`Engine.fallback` names it. tests/test_shaclsparql.py compares both engines on every shape
test case.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .build import SourceFiles, bind_prefixes
from .namespaces import GRAPH
from .store import GraphStore, MemoryStore
from .validate import Report, report_from_graph

#: Shape predicates that are not constraints (or are read with the constraint they belong to).
NOT_CONSTRAINTS = {
    RDF.type, RDFS.label, RDFS.comment, RDFS.subClassOf, RDFS.seeAlso, RDFS.isDefinedBy,
    SH.path, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target, SH.severity,
    SH.message, SH.name, SH.description, SH.order, SH.group, SH.deactivated, SH.defaultValue,
    SH.flags, SH.ignoredProperties, SH.prefixes, SH.declare,
    URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
    URIRef("http://purl.org/dc/terms/description"), URIRef("http://purl.org/dc/terms/source"),
}
TRANSLATED = {
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minLength, SH.maxLength,
    SH.pattern, SH.languageIn, SH.uniqueLang, SH["in"], SH.hasValue, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals,
    SH.closed, SH.node, SH.property, SH["not"], SH["and"], SH["or"], SH.xone, SH.sparql,
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
}
#: XSD datatypes whose lexical forms a cast can check (an ill-typed literal fails sh:datatype).
CASTABLE = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.date, XSD.dateTime,
            XSD.time, XSD.gYear, XSD.gYearMonth, XSD.duration, XSD.nonNegativeInteger,
            XSD.positiveInteger, XSD.negativeInteger, XSD.nonPositiveInteger, XSD.long, XSD.int,
            XSD.short, XSD.byte, XSD.unsignedLong, XSD.unsignedInt, XSD.unsignedShort, XSD.unsignedByte}
_counter = itertools.count()


class Untranslatable(Exception):
    """A shape uses a SHACL feature this engine does not translate (pySHACL validates it)."""


def _n3(term) -> str:
    if isinstance(term, BNode):
        raise Untranslatable("a blank node as a constraint value")
    return term.n3()


def _fresh(name: str) -> str:
    return f"?{name}{next(_counter)}"


Focus = Callable[[str], str]  # variable name (with ?) -> a group pattern binding it


@dataclass
class Hit:
    """One violation: the shape and component that found it, the focus and value nodes."""

    shape: object  # the shape node (URIRef or BNode)
    component: type
    focus: object
    value: object = None
    path: object = None
    #: Results of the nested shape, for sh:node (pySHACL attaches them with sh:detail).
    details: list = field(default_factory=list)
    #: More arguments for pySHACL's make_v_result (SPARQL constraints, qualified cardinality).
    extra: dict = field(default_factory=dict)


@dataclass
class Engine:
    """Runs the shapes of a shapes graph on a store."""

    store: GraphStore
    shapes: Graph
    fallback: list = field(default_factory=list)

    def __post_init__(self):
        from pyshacl.shapes_graph import ShapesGraph
        self.sg = ShapesGraph(self.shapes)
        self.sg.shapes  # noqa: B018 - builds pySHACL's shape cache (lookup_shape_from_node)
        self._classes = self._component_classes()

    # ------------------------------------------------------------------ shapes graph

    @staticmethod
    def _component_classes() -> dict:
        from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
        return dict(CONSTRAINT_PARAMETERS_MAP)

    def value(self, node, pred):
        return self.shapes.value(node, pred)

    def values(self, node, pred) -> list:
        return sorted(self.shapes.objects(node, pred), key=str)

    def items(self, node) -> list:
        return list(Collection(self.shapes, node))

    def is_property_shape(self, node) -> bool:
        return (node, SH.path, None) in self.shapes

    def deactivated(self, node) -> bool:
        value = self.value(node, SH.deactivated)
        return value is not None and bool(value.toPython()) if isinstance(value, Literal) else False

    def check_translatable(self, node, seen=None) -> None:
        """Raise Untranslatable when ``node`` (or a shape it refers to) needs pySHACL."""
        seen = set() if seen is None else seen
        if node in seen:
            raise Untranslatable(f"recursive shape {node}")
        seen = seen | {node}
        for pred in set(self.shapes.predicates(node, None)):
            if pred in NOT_CONSTRAINTS or pred in TRANSLATED:
                continue
            if str(pred).startswith(str(SH)) or pred in self._classes:
                raise Untranslatable(f"{self.shapes.namespace_manager.normalizeUri(pred)}")
        if self.is_property_shape(node):
            self.path(self.value(node, SH.path))
        for constraint in self.values(node, SH.sparql):
            self.sparql_text(node, constraint)
        if (node, SH.qualifiedValueShapesDisjoint, None) in self.shapes:
            raise Untranslatable("sh:qualifiedValueShapesDisjoint")
        for pred in (SH.node, SH["not"], SH.property, SH.qualifiedValueShape):
            for other in self.values(node, pred):
                self.check_translatable(other, seen)
        for pred in (SH["and"], SH["or"], SH.xone):
            for lst in self.values(node, pred):
                for other in self.items(lst):
                    self.check_translatable(other, seen)

    def path(self, node) -> str:
        """A SHACL path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return node.n3()
        if not isinstance(node, BNode):
            raise Untranslatable(f"path {node!r}")
        if (node, RDF.first, None) in self.shapes:
            return "(" + "/".join(self.path(p) for p in self.items(node)) + ")"
        for pred, template in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                               (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = self.value(node, pred)
            if inner is not None:
                return template.format(self.path(inner))
        alternatives = self.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in self.items(alternatives)) + ")"
        raise Untranslatable(f"path {node!r}")

    def severity(self, node):
        return self.value(node, SH.severity) or SH.Violation

    # ------------------------------------------------------------------ targets

    def targets(self, node) -> Focus | None:
        classes = set(self.values(node, SH.targetClass))
        types = set(self.shapes.objects(node, RDF.type))
        rdfs_classes = set(self.shapes.subjects(RDFS.subClassOf, RDFS.Class)) | {RDFS.Class}
        if types & rdfs_classes:
            classes.add(node)
        nodes = self.values(node, SH.targetNode)
        subjects_of = self.values(node, SH.targetSubjectsOf)
        objects_of = self.values(node, SH.targetObjectsOf)
        sparql_targets = self.values(node, SH.target)
        if not (classes or nodes or subjects_of or objects_of or sparql_targets):
            return None
        if sparql_targets:
            # SHACL-AF SPARQL-based targets: run once, their ?this nodes join the explicit targets.
            nodes = sorted(set(nodes) | self.sparql_target_nodes(sparql_targets), key=str)

        def focus(var: str) -> str:
            union = []
            for cls in sorted(classes, key=str):
                union.append(f"{{ {var} a/{RDFS.subClassOf.n3()}* {_n3(cls)} }}")
            if nodes or sparql_targets:
                union.append(f"{{ VALUES {var} {{ {' '.join(_n3(n) for n in nodes)} }} }}")
            for p in subjects_of:
                union.append(f"{{ {var} {_n3(p)} {_fresh('o')} }}")
            for p in objects_of:
                union.append(f"{{ {_fresh('s')} {_n3(p)} {var} }}")
            return f"{{ SELECT DISTINCT {var} WHERE {{ {' UNION '.join(union)} }} }}"
        return focus

    def sparql_target_nodes(self, targets) -> set:
        """The focus nodes of SHACL-AF SPARQL-based targets (``sh:target [ a sh:SPARQLTarget ;
        sh:select ... ]``): the ``?this`` of each target's query, run with its declared prefixes."""
        from .validate import _declared_prefixes
        found = set()
        for target in targets:
            select = self.value(target, SH.select)
            if select is None or (target, RDF.type, SH.SPARQLTarget) not in self.shapes \
                    or (target, SH.parameter, None) in self.shapes:
                raise Untranslatable("sh:target that is not a plain sh:SPARQLTarget with sh:select")
            result = self.run_query(_declared_prefixes(self.shapes, target) + str(select))
            if "this" not in [str(v) for v in result.vars]:
                raise Untranslatable("sh:SPARQLTarget whose query does not select ?this")
            found.update(row["this"] for row in result if row["this"] is not None)
        return found

    # ------------------------------------------------------------------ evaluation

    def run_query(self, text: str):
        return self.store.query(text, check=False)

    def pairs(self, node, focus: Focus) -> tuple[str, str]:
        """(pattern binding ?this and ?value, ?this) for the value nodes of a shape."""
        if self.is_property_shape(node):
            return f"{focus('?this')} ?this {self.path(self.value(node, SH.path))} ?value .", "?this"
        return f"{focus('?this')} BIND(?this AS ?value)", "?this"

    def evaluate(self, node, focus: Focus) -> list[Hit]:
        """Every violation of shape ``node`` for the focus nodes ``focus`` gives."""
        if self.deactivated(node):
            return []
        hits: list[Hit] = []
        pattern, _ = self.pairs(node, focus)
        classes = self._classes

        def select(condition: str, component_param) -> None:
            query = f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} FILTER({condition}) }}"
            for row in self.run_query(query):
                hits.append(Hit(node, classes[component_param], row["this"], row["value"]))

        for param in sorted(set(self.shapes.predicates(node, None)), key=str):
            if param not in TRANSLATED or param in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                continue
            for arg in self.values(node, param):
                self._component(node, param, arg, focus, pattern, select, hits)
        return hits

    def _component(self, node, param, arg, focus, pattern, select, hits) -> None:
        classes = self._classes
        if param == SH["class"]:
            select(f"NOT EXISTS {{ ?value a/{RDFS.subClassOf.n3()}* {_n3(arg)} }} || isLiteral(?value)",
                   param)
        elif param == SH.datatype:
            select(f"!({self._datatype_ok(arg)})", param)
        elif param == SH.nodeKind:
            kinds = {SH.IRI: "isIRI(?value)", SH.BlankNode: "isBlank(?value)", SH.Literal: "isLiteral(?value)",
                     SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
                     SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
                     SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))"}
            if arg not in kinds:
                raise Untranslatable(f"sh:nodeKind {arg}")
            select(f"!{kinds[arg]}", param)
        elif param in (SH.minCount, SH.maxCount):
            if not self.is_property_shape(node):
                raise Untranslatable("cardinality on a node shape")
            n = int(arg)
            if param == SH.minCount and n == 0:
                return
            path = self.path(self.value(node, SH.path))
            having = f"COUNT(DISTINCT ?value) < {n}" if param == SH.minCount else f"COUNT(DISTINCT ?value) > {n}"
            query = (f"SELECT ?this WHERE {{ {focus('?this')} OPTIONAL {{ ?this {path} ?value }} }} "
                     f"GROUP BY ?this HAVING({having})")
            for row in self.run_query(query):
                hits.append(Hit(node, classes[param], row["this"]))
        elif param in (SH.minLength, SH.maxLength):
            n = int(arg)
            if param == SH.minLength and n == 0:
                return
            op = "<" if param == SH.minLength else ">"
            select(f"isBlank(?value) || STRLEN(STR(?value)) {op} {n}", param)
        elif param == SH.pattern:
            flags = self.value(node, SH.flags)
            regex = f"REGEX(STR(?value), {_n3(Literal(str(arg)))}" + (f", {_n3(Literal(str(flags)))})" if flags else ")")
            select(f"isBlank(?value) || !{regex}", param)
        elif param == SH.languageIn:
            wanted = [str(x).lower() for x in self.items(arg)]
            if "*" in wanted:
                select('!isLiteral(?value) || lang(?value) = ""', param)
            else:
                options = " || ".join(f"LCASE(lang(?value)) = {_n3(Literal(w))} || "
                                      f"STRBEFORE(LCASE(lang(?value)), \"-\") = {_n3(Literal(w))}" for w in wanted)
                select(f'!isLiteral(?value) || lang(?value) = "" || !({options or "false"})', param)
        elif param == SH.uniqueLang:
            if not (isinstance(arg, Literal) and arg.toPython() is True):
                return
            path = self.path(self.value(node, SH.path))
            query = (f"SELECT ?this ?lang WHERE {{ {focus('?this')} ?this {path} ?value . "
                     f'FILTER(isLiteral(?value) && lang(?value) != "") BIND(LCASE(lang(?value)) AS ?lang) }} '
                     f"GROUP BY ?this ?lang HAVING(COUNT(DISTINCT ?value) > 1)")
            for row in self.run_query(query):
                hits.append(Hit(node, classes[param], row["this"]))
        elif param == SH["in"]:
            members = self.items(arg)
            same = " || ".join(f"sameTerm(?value, {_n3(m)})" for m in members) or "false"
            select(f"!({same})", param)
        elif param == SH.hasValue:
            if self.is_property_shape(node):
                path = self.path(self.value(node, SH.path))
                query = (f"SELECT ?this WHERE {{ {focus('?this')} FILTER NOT EXISTS "
                         f"{{ ?this {path} ?v . FILTER(sameTerm(?v, {_n3(arg)})) }} }}")
            else:
                query = f"SELECT ?this WHERE {{ {focus('?this')} FILTER(!sameTerm(?this, {_n3(arg)})) }}"
            for row in self.run_query(query):
                hits.append(Hit(node, classes[param], row["this"]))
        elif param in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
            if not isinstance(arg, Literal):
                raise Untranslatable("range with a non-literal bound")
            op = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}[param]
            string_bound = isinstance(arg.toPython(), str)
            kind = "isLiteral(?value) && " + ("(datatype(?value) = xsd:string || lang(?value) != \"\")"
                                              if string_bound else "!(datatype(?value) = xsd:string || lang(?value) != \"\")")
            select(f"!({kind} && COALESCE(?value {op} {_n3(arg)}, false))".replace("xsd:string", XSD.string.n3()), param)
        elif param in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            self._pair(node, param, arg, focus, pattern, hits)
        elif param == SH.closed:
            if isinstance(arg, Literal) and arg.toPython() is True:
                self._closed(node, focus, hits)
        elif param == SH.property:
            hits.extend(self.evaluate(arg, focus))
        elif param == SH.sparql:
            self._sparql(node, arg, focus, hits)
        elif param == SH.qualifiedValueShape:
            self._qualified(node, arg, focus, pattern, hits)
        elif param in (SH.node, SH["not"], SH["and"], SH["or"], SH.xone):
            self._logical(node, param, arg, focus, pattern, hits)

    def sparql_text(self, node, constraint) -> tuple[str, object]:
        """(query with its prefixes, pySHACL's query helper) for a SHACL-SPARQL constraint.

        $this becomes ?this, joined with the focus nodes at the top of the WHERE clause: the same
        as pySHACL's pre-binding for a query with one group (no subquery, no MINUS), which is
        what is translated; anything else is left to pySHACL.
        """
        import re
        from pyshacl.helper import get_query_helper_cls
        if self.deactivated(constraint):
            return "", None
        select = self.value(constraint, SH.select)
        if select is None or (constraint, SH.ask, None) in self.shapes:
            raise Untranslatable("SPARQL constraint without sh:select")
        text = str(select)
        if len(re.findall(r"\bSELECT\b", text, re.IGNORECASE)) != 1 or re.search(r"\bMINUS\b", text, re.IGNORECASE) \
                or re.search(r"\$(PATH|currentShape|shapesGraph|value)\b", text) or "?this" in text:
            raise Untranslatable("SPARQL constraint with a subquery, MINUS or other pre-bound variables")
        shape = self.sg.lookup_shape_from_node(node)
        helper = get_query_helper_cls()(shape, constraint, text, messages=None, deactivated=False)
        helper.collect_prefixes()
        return helper.apply_prefixes(text.replace("$this", "?this")), helper

    def _sparql(self, node, constraint, focus, hits) -> None:
        import re
        text, _helper = self.sparql_text(node, constraint)
        if not text:
            return
        match = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE) or re.search(r"\{", text)
        where = match.end()
        query = text[:where] + f" {focus('?this')} " + text[where:]
        messages = set(self.shapes.objects(constraint, SH.message)) or None
        extra = {"source_constraint": constraint, "extra_messages": messages}
        component = self._classes[SH.sparql]
        result = self.run_query(query)
        seen = set()
        per_focus: dict = {}
        for row in result:
            bound = {str(var): row[var] for var in result.vars if row[var] is not None}
            this = bound.get("this")
            if this is None:
                continue  # the focus is always bound: it comes from the join
            if "failure" in bound:
                if (this, "failure") in seen:
                    continue
                seen.add((this, "failure"))
                del bound["failure"]
                bound.pop("this", None)
                per_focus.setdefault(this, []).append(Hit(node, component, this, None if self.is_property_shape(node)
                                                          else this, extra=dict(extra, bound_vars=bound)))
                continue
            path, value = bound.pop("path", None), bound.pop("value", None)
            key = (this, path, value, tuple(sorted((k, v) for k, v in bound.items() if k != "this")))
            if key in seen:
                continue
            seen.add(key)
            others = {k: v for k, v in bound.items() if k != "this"}
            shown = value if value is not None else (None if self.is_property_shape(node) else this)
            hit = Hit(node, component, this, shown, path=path,
                      extra=dict(extra, bound_vars=(this, path, shown, others)))
            per_focus.setdefault(this, []).append(hit)
        for this in per_focus:
            hits.extend(per_focus[this])

    def _qualified(self, node, value_shape, focus, pattern, hits) -> None:
        SH_QualifiedMaxCountConstraintComponent = SH.QualifiedMaxCountConstraintComponent  # noqa: N806
        SH_QualifiedMinCountConstraintComponent = SH.QualifiedMinCountConstraintComponent  # noqa: N806
        if not self.is_property_shape(node):
            raise Untranslatable("qualified cardinality on a node shape")
        low, high = self.value(node, SH.qualifiedMinCount), self.value(node, SH.qualifiedMaxCount)
        low = int(low) if low is not None else None
        high = int(high) if high is not None else None

        def candidates(var: str) -> str:
            outer = _fresh("f")
            inner = pattern.replace("?this", outer).replace("?value", var)
            return f"{{ SELECT DISTINCT {var} WHERE {{ {inner} }} }}"
        failing = self.nonconforming(value_shape, candidates)
        counts: dict = {}
        for row in self.run_query(f"SELECT DISTINCT ?this WHERE {{ {focus('?this')} }}"):
            counts.setdefault(row["this"], 0)
        for row in self.run_query(f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} }}"):
            counts.setdefault(row["this"], 0)
            if row["value"] not in failing:
                counts[row["this"]] += 1
        component = self._classes[SH.qualifiedValueShape]
        for this, n in counts.items():
            if high is not None and n > high:
                hits.append(Hit(node, component, this, extra={"constraint_component": SH_QualifiedMaxCountConstraintComponent}))
            if low is not None and n < low:
                hits.append(Hit(node, component, this, extra={"constraint_component": SH_QualifiedMinCountConstraintComponent}))

    def _datatype_ok(self, dt) -> str:
        if dt == RDFS.Literal:
            return "isLiteral(?value)"
        if dt == XSD.string:
            return f'isLiteral(?value) && datatype(?value) = {XSD.string.n3()} && lang(?value) = ""'
        if dt == RDF.langString:
            return 'isLiteral(?value) && lang(?value) != ""'
        ok = f"isLiteral(?value) && datatype(?value) = {_n3(dt)}"
        if dt in CASTABLE:
            ok += f" && COALESCE(datatype({_n3(dt)}(STR(?value))) = {_n3(dt)}, false)"
        return ok

    def _pair(self, node, param, other, focus, pattern, hits) -> None:
        component = self._classes[param]
        this_other = f"?this {_n3(other)} ?other"
        if param == SH.equals:
            if self.is_property_shape(node):
                path = self.path(self.value(node, SH.path))
                missing_other = (f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} FILTER NOT EXISTS "
                                 f"{{ ?this {_n3(other)} ?o . FILTER(sameTerm(?o, ?value)) }} }}")
                missing_path = (f"SELECT DISTINCT ?this (?other AS ?value) WHERE {{ {focus('?this')} {this_other} "
                                f"FILTER NOT EXISTS {{ ?this {path} ?v . FILTER(sameTerm(?v, ?other)) }} }}")
            else:
                missing_other = (f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} FILTER NOT EXISTS "
                                 f"{{ ?this {_n3(other)} ?o . FILTER(sameTerm(?o, ?value)) }} }}")
                missing_path = (f"SELECT DISTINCT ?this (?other AS ?value) WHERE {{ {focus('?this')} {this_other} "
                                f"FILTER(!sameTerm(?this, ?other)) }}")
            for query in (missing_other, missing_path):
                for row in self.run_query(query):
                    hits.append(Hit(node, component, row["this"], row["value"]))
            return
        if param == SH.disjoint:
            query = (f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} {this_other} "
                     f"FILTER(sameTerm(?value, ?other)) }}")
        else:
            op = "<" if param == SH.lessThan else "<="
            query = (f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} {this_other} "
                     f"FILTER(!COALESCE(?value {op} ?other, false)) }}")
        for row in self.run_query(query):
            hits.append(Hit(node, component, row["this"], row["value"]))

    def _closed(self, node, focus, hits) -> None:
        allowed = {self.value(p, SH.path) for p in self.values(node, SH.property)}
        allowed = {p for p in allowed if isinstance(p, URIRef)}
        for lst in self.values(node, SH.ignoredProperties):
            allowed.update(self.items(lst))
        condition = " && ".join(f"?p != {_n3(p)}" for p in sorted(allowed, key=str)) or "true"
        query = f"SELECT DISTINCT ?this ?p ?value WHERE {{ {focus('?this')} ?this ?p ?value FILTER({condition}) }}"
        for row in self.run_query(query):
            hits.append(Hit(node, self._classes[SH.closed], row["this"], row["value"], row["p"]))

    def _logical(self, node, param, arg, focus, pattern, hits) -> None:
        def candidates(var: str) -> str:
            outer = _fresh("f")
            inner = pattern.replace("?this", outer).replace("?value", var)
            return f"{{ SELECT DISTINCT {var} WHERE {{ {inner} }} }}"
        rows = [(r["this"], r["value"]) for r in self.run_query(f"SELECT DISTINCT ?this ?value WHERE {{ {pattern} }}")]
        if not rows:
            return
        if param in (SH.node, SH["not"]):
            shapes = [arg]
        else:
            shapes = self.items(arg)
        component = self._classes[param]
        if param == SH.node:
            nested = self.nested_hits(arg, candidates)
            for this, value in rows:
                if value in nested:
                    hits.append(Hit(node, component, this, value, details=nested[value]))
            return
        failing = [self.nonconforming(s, candidates) for s in shapes]
        for this, value in rows:
            conforms = [value not in bad for bad in failing]
            if param == SH["not"]:
                ok = not conforms[0]
            elif param == SH["and"]:
                ok = all(conforms)
            elif param == SH["or"]:
                ok = any(conforms)
            else:
                ok = sum(conforms) == 1
            if not ok:
                hits.append(Hit(node, component, this, value))

    def nested_hits(self, shape, candidates: Focus) -> dict:
        """Candidate node -> the results ``shape`` gives it (any severity), for those with some."""
        out: dict = {}
        for hit in self.evaluate(shape, candidates):
            out.setdefault(hit.focus, []).append(hit)
        return out

    def nonconforming(self, shape, candidates: Focus) -> set:
        """The candidate nodes that do not conform to ``shape`` (as pySHACL decides it)."""
        if self.deactivated(shape) or self.severity(shape) != SH.Violation:
            return set()
        return {hit.focus for hit in self.evaluate(shape, candidates)
                if self.severity(hit.shape) == SH.Violation}

    # ------------------------------------------------------------------ top level

    def top_shapes(self) -> list:
        shapes = set()
        for pred in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            shapes.update(self.shapes.subjects(pred, None))
        rdfs_classes = set(self.shapes.subjects(RDFS.subClassOf, RDFS.Class)) | {RDFS.Class}
        for cls in rdfs_classes:
            for s in self.shapes.subjects(RDF.type, cls):
                if (s, RDF.type, SH.NodeShape) in self.shapes or (s, RDF.type, SH.PropertyShape) in self.shapes \
                        or (s, SH.property, None) in self.shapes or (s, SH.path, None) in self.shapes:
                    shapes.add(s)
        return sorted(shapes, key=lambda s: (isinstance(s, BNode), str(s)))

    def run(self) -> tuple[list[Hit], list]:
        """(hits of the translated shapes, shapes left to pySHACL)."""
        hits: list[Hit] = []
        fallback = []
        for shape in self.top_shapes():
            try:
                self.check_translatable(shape)
                focus = self.targets(shape)
            except Untranslatable as why:
                fallback.append((shape, str(why)))
                continue
            if focus is None:
                continue
            hits.extend(self.evaluate(shape, focus))
        self.fallback = fallback
        return hits, fallback

    def report_triples(self, hits: list[Hit], datagraph: Graph) -> list:
        """pySHACL's (description, result node, triples) for each hit, from its own components."""
        results = []
        components: dict = {}
        seen = set()
        for hit in hits:
            key = (hit.shape, hit.component, hit.focus, hit.value, hit.path,
                   repr(sorted((k, repr(v)) for k, v in hit.extra.items())))
            if key in seen:
                continue
            seen.add(key)
            results.append(self._result(hit, datagraph, components))
        return results

    def _result(self, hit: Hit, datagraph: Graph, components: dict):
        ckey = (hit.shape, hit.component)
        if ckey not in components:
            components[ckey] = hit.component(self.sg.lookup_shape_from_node(hit.shape))
        kwargs = {"value_node": hit.value, **hit.extra}
        if hit.path is not None:
            kwargs["result_path"] = hit.path
        text, node, triples = components[ckey].make_v_result(datagraph, hit.focus, **kwargs)
        for detail in hit.details:
            _t, sub, sub_triples = self._result(detail, datagraph, components)
            triples.append((node, SH.detail, sub))
            triples.extend(sub_triples)
        return text, node, triples


def validate_store(store: GraphStore, shapes: Graph, *, files: SourceFiles | None = None) -> Report:
    """Validate a store's union against ``shapes``: SPARQL where it translates, pySHACL elsewhere."""
    from pyshacl.validator import Validator
    if isinstance(store, MemoryStore):
        from .store import OxigraphStore
        del OxigraphStore
    engine = Engine(store, shapes)
    hits, fallback = engine.run()
    datagraph = Graph()
    bind_prefixes(datagraph)
    results = engine.report_triples(hits, datagraph)
    conforms = not any(engine.severity(h.shape) == SH.Violation for h in hits)
    report_graph, _text = Validator.create_validation_report(engine.sg, conforms, results)
    if fallback:
        report_graph = _merge_fallback(store, shapes, [s for s, _why in fallback], report_graph)
    report = report_from_graph(report_graph, datagraph.namespace_manager, files)
    report.engine = "sparql" + (f" (pySHACL for {len(fallback)} shape(s): "
                                + "; ".join(f"{s}: {why}" for s, why in fallback) + ")" if fallback else "")
    return report


def _merge_fallback(store: GraphStore, shapes: Graph, fallback: Iterable, report_graph: Graph) -> Graph:
    """Add pySHACL's results for the shapes the engine could not translate."""
    from pyshacl import validate as shacl_validate
    named = [s for s in fallback if isinstance(s, URIRef)]
    if len(named) != len(list(fallback)):
        named = None  # a blank-node shape cannot be selected: run every shape
    _c, graph, _t = shacl_validate(
        store.union(), shacl_graph=shapes, inference="none", abort_on_first=False, allow_infos=True,
        allow_warnings=True, advanced=True, js=False, do_owl_imports=False, inplace=True,
        meta_shacl=False, debug=False, **({"use_shapes": named} if named else {}))
    if named is None:
        return graph
    report = next(report_graph.subjects(RDF.type, SH.ValidationReport))
    other = next(graph.subjects(RDF.type, SH.ValidationReport))
    for s, p, o in graph:
        if s == other and p in (RDF.type, SH.conforms):
            continue
        report_graph.add((report if s == other else s, p, o))
    conforms = not any(True for r in report_graph.objects(report, SH.result)
                       if report_graph.value(r, SH.resultSeverity) == SH.Violation)
    report_graph.set((report, SH.conforms, Literal(conforms)))
    return report_graph


def validate_graph(graph: Graph, shapes: Graph, *, files: SourceFiles | None = None) -> Report:
    """:func:`validate_store` over an in-memory Oxigraph store that holds ``graph`` (as its union).

    What `coopgraph ingest` and `coopgraph ingest-pages` check the would-be dataset with: the same
    results as pySHACL (tests/test_shaclsparql.py), in a fraction of its time on the whole record."""
    import pyoxigraph as ox
    from .store import OxigraphStore, rdflib_to_ox
    store = OxigraphStore.in_memory()
    name = ox.NamedNode(str(GRAPH["checked"]))
    store.ox.bulk_extend(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o), name) for s, p, o in graph)
    store.finish_load()
    return validate_store(store, shapes, files=files)


def new_violations(shapes: Graph, current: Graph, proposed: Graph) -> tuple[Report, list]:
    """The report on ``proposed`` and those of its violations that ``current`` has not.

    What an ingest would add: `coopgraph ingest` and `coopgraph ingest-pages` refuse to write them."""
    before = validate_graph(current, shapes)
    after = validate_graph(proposed, shapes)
    old = {(v.focus, v.path, v.message) for v in before.violations}
    return after, [v for v in after.violations if (v.focus, v.path, v.message) not in old]
