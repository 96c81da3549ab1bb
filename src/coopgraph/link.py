"""Link discovery: match the records of another dataset to our entities, each candidate scored and explained.

One matcher serves ``coopgraph link`` (another dataset as a file -> an SSSOM candidate set) and the
reconciliation service (:mod:`coopgraph.reconcile`). The rules, precision first (a wrong link is
worse than a missed one):

1. Names are normalised for this domain: case, accents (Turkish dotless i too), "co-operative" ->
   "cooperative", British/American spelling, a few abbreviations (Intl., Dept.), punctuation, stop
   words and legal forms; person names compare as a bag of words, so "Van Vuuren, Vic" is
   "vic van vuuren", particles (van, von, de) included.
2. A name matches fully (same words, in any order; a typo in a long word allowed), or by acronym (an
   acronym our data lists as an alternate name, or the initials of a name), or partly. Acronyms our
   data lists are also spelled out inside longer names ("ILO Cooperatives Unit" is also "International
   Labour Organization Cooperatives Unit").
3. Evidence moves the score: type, country, city, year (founding, start), affiliation (people),
   shared identifiers (both sides link to the same Wikidata item). Disagreements cost more than
   agreements earn.
4. A partial name never reaches the match threshold on its own; a name that only makes sense in
   context ("Ministry of Trade", "Cooperatives Unit") needs a country, city, affiliation or identifier
   to agree; two candidates equally good for one record are both marked ambiguous.

:data:`MATCH_THRESHOLD` is the score at or above which a candidate is a confident match (``match: true``
in the reconciliation service, the default ``--min-score`` of ``coopgraph link`` and ``accept``). It was
chosen with benchmarks/link_quality.py on the test datasets of tests/data/link/ (README "Linking").
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from rapidfuzz import fuzz, process
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import FOAF, OWL, RDF, RDFS, SKOS, DCTERMS

from . import __version__, ids, mappings
from .errors import CoopgraphError, InputError
from .namespaces import COOP, ID, SDO

#: A candidate at or above this score is a confident match (see module docstring).
MATCH_THRESHOLD = 0.9
#: Candidates below this score are not reported at all.
REPORT_FLOOR = 0.3

FAMILIES = ("Organization", "Person", "Place", "Event")
#: Type local names (lower case, any vocabulary) -> family.
TYPE_FAMILY = {
    **{t: "Organization" for t in (
        "organization", "organisation", "governmentorganization", "ngo", "corporation", "cooperative",
        "formalorganization", "organizationalunit", "educationalorganization", "researchorganization",
        "localbusiness", "company", "nonprofitorganization",
        "sseinitiative", "association", "federation", "networkorganization", "fundingagency")},
    **{t: "Person" for t in ("person",)},
    **{t: "Place" for t in ("place", "city", "country", "administrativearea", "eventvenue",
                            "governmentbuilding", "spatialthing", "location", "state", "region")},
    **{t: "Event" for t in ("event", "businessevent", "educationevent", "socialevent", "meeting",
                            "conference", "exhibitionevent")},
}

# ----------------------------------------------------------------------------- normalisation

_FOLD = str.maketrans({"ı": "i", "İ": "I", "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
                       "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th",
                       "’": "'", "‘": "'", "–": "-", "—": "-"})
#: Words that carry no identity in an organisation's or event's name.
STOP_WORDS = frozenset("""a an and at by for from in of on the to with
    de des du la le les del della delle dei di da der die das den und et y e""".split())
#: Legal forms, dropped from organisation names ("Cooperatives Europe aisbl" is "Cooperatives Europe").
LEGAL_FORMS = frozenset("""aisbl asbl ivzw vzw ltd limited inc incorporated llc plc gmbh ag sa sas sarl srl
    spa scrl scarl scs eg ev ev bv nv oy ab as co""".split())
#: Person-name particles (kept: they are part of the family name, in any case).
PARTICLES = frozenset("van von de der den du da di del della le la ter ten zu al el bin".split())
#: Spellings and abbreviations that mean the same word.
VARIANTS = {
    "intl": "international", "int'l": "international", "internat": "international",
    "dept": "department", "dep": "department", "govt": "government", "gov": "government",
    "assoc": "association", "assn": "association", "natl": "national", "fed": "federation",
    "coop": "cooperative", "coops": "cooperative", "cooperatives": "cooperative",
    "labour": "labor", "centre": "center", "programme": "program", "organisation": "organization",
    "organisations": "organization", "mgmt": "management", "univ": "university", "&": "and",
}
#: Words of organisation names that say what kind of body it is, not which one.
GENERIC = frozenset("""ministry department unit office division section directorate bureau secretariat
    committee branch headquarter headquarters government presidency council agency commission
    service services team group center program trade labor economy economic social solidarity
    cooperative enterprise enterprises development affairs industry agriculture finance commerce
    employment work policy policies national international regional european federal state city
    municipal local public general central task force working network association federation
    union alliance organization institute foundation fund board chamber""".split())
#: Head words that make a name depend on its context ("Ministry of Trade": of which country?).
CONTEXT_HEADS = frozenset("""ministry department unit office division section directorate bureau
    secretariat committee branch headquarters headquarter government presidency""".split())


def fold(text: str) -> str:
    """Lower case without accents: 'Ticaret Bakanlığı' -> 'ticaret bakanligi'."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Folded words of ``text``, with 'co-operative' written 'cooperative'."""
    text = fold(text).replace("&", " and ")
    text = re.sub(r"\bco-(?=op)", "co", text)
    text = re.sub(r"\bint'l\b", "intl", text)
    text = text.replace("'", "")
    return [w for w in re.split(r"[^0-9a-z]+", text) if w]


def org_tokens(text: str) -> list[str]:
    """Identity-bearing words of an organisation, place or event name, normalised and stemmed."""
    out = []
    for w in words(text):
        w = VARIANTS.get(w, w)
        if w in STOP_WORDS or w in LEGAL_FORMS:
            continue
        w = re.sub(r"isation$", "ization", w)
        out.append(VARIANTS.get(_stem(w), _stem(w)))
    return out


def person_tokens(text: str) -> list[str]:
    """Words of a person's name; 'Family, Given' is turned round first."""
    if text.count(",") == 1:
        family, given = (part.strip() for part in text.split(","))
        if family and given:
            text = f"{given} {family}"
    return words(text)


_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,9}$")


def is_acronym(text: str) -> bool:
    """'ILO', 'UNTFSSE', 'EU': one word in capitals (a dotted 'I.L.O.' too)."""
    return bool(_ACRONYM.match(text.strip().replace(".", "")))


def initials(text: str) -> str | None:
    """The initials of a multi-word name: 'International Labour Organization' -> 'ILO'."""
    parts = []
    text = re.sub(r"(?i)\bco-(?=op)", "co", unicodedata.normalize("NFKC", text).translate(_FOLD))
    for raw in re.split(r"[\s/]+", text):
        raw = raw.strip(",.;:()[]\"'")
        if not raw:
            continue
        if is_acronym(raw):
            parts.append(raw.replace(".", ""))
            continue
        for piece in raw.split("-"):
            w = fold(piece)
            w = re.sub(r"[^0-9a-z]", "", w)
            if w and w not in STOP_WORDS and w not in LEGAL_FORMS:
                parts.append(w[0].upper())
    result = "".join(parts)
    return result if len(parts) >= 2 else None


def defines_acronym(long: str, short: str) -> bool:
    """True when ``short`` can abbreviate ``long`` (Schwartz & Hearst, 2003): its letters appear in
    order in ``long``, the first one at the start of a word. 'COPAC' abbreviates 'Committee for the
    Promotion and Advancement of Cooperatives'; 'ILO' does not abbreviate 'Cooperatives Unit'."""
    s_chars, l_text = fold(short.replace(".", "")), fold(long)
    if not is_acronym(short) or len(l_text.split()) < 2:
        return False
    si, li = len(s_chars) - 1, len(l_text) - 1
    while si >= 0:
        c = s_chars[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (l_text[li] != c or (si == 0 and li > 0 and l_text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
        si -= 1
    return True


# ----------------------------------------------------------------------------- names

@dataclass(frozen=True)
class Name:
    """One name as written and its normalised forms."""

    text: str
    tokens: tuple[str, ...]
    key: str  # sorted tokens: the same words in any order
    via: str = ""  # how this form was made, e.g. "ILO spelled out"

    @classmethod
    def make(cls, text: str, person: bool, via: str = "") -> "Name":
        toks = tuple(person_tokens(text) if person else org_tokens(text))
        return cls(text, toks, " ".join(sorted(toks)), via)


@dataclass(frozen=True)
class Similarity:
    score: float
    how: str
    full: bool  # every word found on both sides (or an acronym)
    ours: Name
    theirs: Name
    acronym: bool = False  # the match rests on an acronym only


def _align(q: tuple[str, ...], e: tuple[str, ...], person: bool) -> tuple[float, list[str], list[str], list[str]]:
    """Greedy word alignment: (sum of weights, near pairs, words only in q, words only in e)."""
    left, right = list(q), list(e)
    weight = 0.0
    near: list[str] = []
    for w in list(left):
        if w in right:
            left.remove(w)
            right.remove(w)
            weight += 1.0
    for w in list(left):
        if len(w) < 5 or not right:
            continue
        best = process.extractOne(w, [r for r in right if len(r) >= 5], scorer=fuzz.ratio, score_cutoff=88)
        if best:
            left.remove(w)
            right.remove(best[0])
            weight += 0.8
            near.append(f"{w}~{best[0]}")
    if person:
        for w in list(left):
            if len(w) == 1:
                hit = next((r for r in right if r.startswith(w) and r not in PARTICLES), None)
                if hit:
                    left.remove(w)
                    right.remove(hit)
                    weight += 0.5
                    near.append(f"{w}.={hit}")
        for w in list(right):
            if len(w) == 1:
                hit = next((r for r in left if r.startswith(w) and r not in PARTICLES), None)
                if hit:
                    left.remove(hit)
                    right.remove(w)
                    weight += 0.5
                    near.append(f"{hit}={w}.")
    return weight, near, left, right


def compare(theirs: Name, ours: Name, person: bool) -> Similarity | None:
    """How alike two names are, 0..1, with the reason in words."""
    if not theirs.tokens or not ours.tokens:
        return None
    via = f" ({ours.via})" if ours.via else ""
    if theirs.key == ours.key and is_acronym(theirs.text) and is_acronym(ours.text):
        return Similarity(0.92, f"same acronym \"{ours.text}\"{via}", True, ours, theirs, acronym=True)
    if theirs.key == ours.key:
        same_order = theirs.tokens == ours.tokens
        how = (f"same name \"{ours.text}\"{via}" if same_order
               else f"same words in another order: \"{theirs.text}\" / \"{ours.text}\"{via}")
        return Similarity(1.0, how, True, ours, theirs)
    weight, near, only_q, only_e = _align(theirs.tokens, ours.tokens, person)
    if weight == 0:
        return None
    dice = 2 * weight / (len(theirs.tokens) + len(ours.tokens))
    if not only_q and not only_e:
        return Similarity(round(dice, 3), f"same words with small differences ({', '.join(near)}): "
                                          f"\"{theirs.text}\" / \"{ours.text}\"{via}", True, ours, theirs)
    parts = [f"partial name \"{theirs.text}\" / \"{ours.text}\"{via}"]
    if only_q:
        parts.append(f"only theirs: {' '.join(only_q)}")
    if only_e:
        parts.append(f"only ours: {' '.join(only_e)}")
    return Similarity(round(min(dice, 0.7), 3), "; ".join(parts), False, ours, theirs)


# ----------------------------------------------------------------------------- records

@dataclass
class Record:
    """An entity to match: one of ours, or a record of the other dataset."""

    id: str
    names: list[str]
    family: str | None = None
    countries: set[str] = field(default_factory=set)  # ISO codes and folded names
    cities: set[str] = field(default_factory=set)  # folded names
    years: set[int] = field(default_factory=set)
    affiliations: list[str] = field(default_factory=list)  # names (theirs) or our IRIs (ours)
    same_as: set[str] = field(default_factory=set)
    description: str = ""
    types: list[str] = field(default_factory=list)  # schema.org local names (ours)
    line: int | None = None  # where the record was read (theirs)

    @property
    def label(self) -> str:
        return self.names[0] if self.names else self.id


@dataclass
class Candidate:
    """One of our entities proposed for a record, with its score and the reasons."""

    entity: Record
    score: float
    reasons: list[str]
    name: Similarity
    match: bool = False

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


class Matcher:
    """Our entities, indexed for matching; :meth:`match` scores a record against them."""

    def __init__(self, entities: Iterable[Record], countries: dict[str, str] | None = None,
                 threshold: float = MATCH_THRESHOLD):
        self.entities = sorted(entities, key=lambda r: r.id)
        self.by_id = {e.id: e for e in self.entities}
        self.threshold = threshold
        #: folded country name or code -> ISO code, for the countries our graph knows.
        self.countries = dict(countries or {})
        self.acronyms: dict[str, set[str]] = {}  # ACRONYM -> entity ids listing it
        for e in self.entities:
            for n in e.names:
                if is_acronym(n):
                    self.acronyms.setdefault(n.replace(".", "").upper(), set()).add(e.id)
        self.expansions = {a: self.by_id[next(iter(i))].names[0] for a, i in self.acronyms.items()
                           if len(i) == 1 and not is_acronym(self.by_id[next(iter(i))].names[0])}
        self._names: dict[str, list[Name]] = {}
        self._initials: dict[str, set[str]] = {}
        self.index: dict[str, set[str]] = {}
        for e in self.entities:
            forms = self._forms(e.names, e.family == "Person")
            self._names[e.id] = forms
            self._initials[e.id] = {i for n in e.names if not is_acronym(n) and (i := initials(n))}
            for form in forms:
                for tok in form.tokens:
                    self.index.setdefault(tok, set()).add(e.id)
            for acr in self._initials[e.id] | {n.replace(".", "").upper() for n in e.names if is_acronym(n)}:
                self.index.setdefault(acr.lower(), set()).add(e.id)
        self.vocabulary = sorted(self.index)

    # -- names
    def _forms(self, names: list[str], person: bool) -> list[Name]:
        forms: list[Name] = []
        seen: set[str] = set()
        for text in names:
            for form in self._variants(text, person):
                if form.key and form.key not in seen:
                    seen.add(form.key)
                    forms.append(form)
        return forms

    def _variants(self, text: str, person: bool) -> list[Name]:
        out = [Name.make(text, person)]
        if person:
            return out
        # "International Co-operative Alliance (ICA)": the acronym is another name if it is the initials
        paren = re.match(r"^(.*?)\s*\(([^()]+)\)\s*(.*)$", text)
        if paren:
            before, inside, after = paren.groups()
            if is_acronym(inside) and defines_acronym(before, inside):
                # "Business Unity South Africa (BUSA)": BUSA is another name; with words after the
                # bracket ("... (ICA) Headquarters") the acronym names only a part: drop it.
                out = [Name.make(f"{before} {after}".strip(), person)]
                if not after:
                    out.append(Name.make(inside, person, via=f"{inside} in brackets is its acronym"))
            else:
                out = [Name.make(f"{before} {inside} {after}", person)]
        # acronyms we know, spelled out inside longer names
        for form in list(out):
            raw_words = form.text.split()
            if len(raw_words) > 1 and any(w.strip(",.()") in self.expansions for w in raw_words):
                spelled = " ".join(self.expansions.get(w.strip(",.()"), w) for w in raw_words)
                used = [w.strip(",.()") for w in raw_words if w.strip(",.()") in self.expansions]
                out.append(Name.make(spelled, person, via=f"{', '.join(used)} spelled out"))
        return out

    def _acronym_of(self, e: Record, text: str) -> tuple[float, str] | None:
        acr = text.strip().replace(".", "").upper()
        if not is_acronym(text.strip()) and not (len(acr) <= 8 and " " not in acr and acr.isalpha()
                                                  and acr.lower() not in self.index):
            return None
        listed = {n.replace(".", "").upper() for n in e.names if is_acronym(n)}
        if acr in listed:
            return 0.92, f"acronym \"{text.strip()}\" is an alternate name of ours"
        if acr in self._initials.get(e.id, set()):
            return 0.8, f"\"{text.strip()}\" are the initials of \"{e.names[0]}\""
        return None

    # -- candidates
    def blocks(self, rec: Record) -> set[str]:
        """Our entities that share a word, an acronym or a near word with ``rec``, or an identifier."""
        found: set[str] = set()
        for text in rec.names:
            for person in (False, True):
                for form in self._variants(text, person):
                    for tok in form.tokens:
                        if tok in self.index:
                            found |= self.index[tok]
                        elif len(tok) >= 5:
                            for near, _score, _i in process.extract(tok, self.vocabulary, scorer=fuzz.ratio,
                                                                   score_cutoff=88, limit=5):
                                found |= self.index[near]
            acr = text.strip().replace(".", "").lower()
            if acr in self.index:
                found |= self.index[acr]
        for e in self.entities:
            if e.same_as & rec.same_as:
                found.add(e.id)
        return found

    def match(self, rec: Record, *, family: str | None = None, limit: int | None = None,
              floor: float = REPORT_FLOOR) -> list[Candidate]:
        """Our candidates for ``rec``, best first, each scored 0..1 and explained."""
        family = family or None
        out = []
        for eid in sorted(self.blocks(rec)):
            e = self.by_id[eid]
            if family and e.family != family:
                continue
            cand = self.score(rec, e)
            if cand and cand.score >= floor:
                out.append(cand)
        out.sort(key=lambda c: (-c.score, c.entity.id))
        confident = [c for c in out if c.score >= self.threshold]
        if len(confident) > 1 and confident[0].score - confident[1].score < 0.05:
            for c in confident:
                if confident[0].score - c.score < 0.05:
                    others = ", ".join(short_id(o.entity.id) for o in confident if o is not c)
                    c.score = round(max(0.0, c.score - 0.15), 3)
                    c.reasons.append(f"-0.15 ambiguous: as good as {others}")
            out.sort(key=lambda c: (-c.score, c.entity.id))
        for c in out:
            c.match = c.score >= self.threshold
        return out[:limit] if limit else out

    def score(self, rec: Record, e: Record) -> Candidate | None:
        """Score one pair; None when the names have nothing in common."""
        person = e.family == "Person"
        best: Similarity | None = None
        theirs_forms = self._forms(rec.names, person)
        for t in theirs_forms:
            for o in self._names[e.id]:
                sim = compare(t, o, person)
                if sim and (best is None or sim.score > best.score):
                    best = sim
        acronym = None
        for text in rec.names:
            hit = self._acronym_of(e, text)
            if hit and (acronym is None or hit[0] > acronym[0]):
                acronym = hit
        # their acronym against the initials of our names is done above; ours against their names:
        for ours in e.names:
            if is_acronym(ours):
                for text in rec.names:
                    if not is_acronym(text) and initials(text) == ours.replace(".", "").upper():
                        if acronym is None or acronym[0] < 0.8:
                            acronym = (0.8, f"our acronym \"{ours}\" is the initials of \"{text}\"")
        if acronym and (best is None or acronym[0] > best.score):
            base = Name(rec.names[0], (), "")
            best = Similarity(acronym[0], acronym[1], True, base, base, acronym=True)
        contradicted = None
        if best is not None and best.acronym and not is_acronym(e.names[0]):
            # an acronym is weak evidence: their full name, if they give one, must not be another name
            full_names = [n for n in rec.names if not is_acronym(n)]
            fulls = [compare(Name.make(n, person), o, person) for n in full_names for o in self._names[e.id]]
            if full_names and max((f.score for f in fulls if f), default=0.0) < 0.5:
                contradicted = full_names[0]
        if best is None:
            return None
        score = best.score
        reasons = [f"name {best.score:.2f}: {best.how}"]
        if contradicted:
            score -= 0.4
            reasons.append(f"-0.40 their full name \"{contradicted}\" is not ours")
        corroborated = False

        def add(delta: float, why: str) -> None:
            nonlocal score
            score += delta
            reasons.append(f"{delta:+.2f} {why}")

        if rec.family and e.family:
            if rec.family == e.family:
                add(0.03, f"both are {e.family}")
            else:
                add(-0.4, f"type differs: {rec.family} there, {e.family} here")
        if rec.countries and e.countries:
            if rec.countries & e.countries:
                add(0.08, f"country agrees: {sorted(rec.countries & e.countries)[0]}")
                corroborated = True
            elif self._known_country(rec.countries):
                add(-0.5, f"country differs: {'/'.join(sorted(rec.countries))} there, "
                          f"{'/'.join(sorted(e.countries))} here")
            else:
                add(-0.15, f"country {'/'.join(sorted(rec.countries))} is not ours ({'/'.join(sorted(e.countries))})")
        if rec.cities and e.cities:
            if rec.cities & e.cities:
                add(0.05, f"city agrees: {sorted(rec.cities & e.cities)[0]}")
                corroborated = True
            else:
                add(-0.15, f"city differs: {'/'.join(sorted(rec.cities))} there, {'/'.join(sorted(e.cities))} here")
        if rec.years and e.years:
            if rec.years & e.years:
                add(0.08, f"year agrees: {min(rec.years & e.years)}")
                corroborated = True
            elif min(abs(a - b) for a in rec.years for b in e.years) > 1:
                add(-0.3, f"year differs: {'/'.join(map(str, sorted(rec.years)))} there, "
                          f"{'/'.join(map(str, sorted(e.years)))} here")
        if rec.affiliations and e.affiliations:
            resolved = self._resolve_orgs(rec.affiliations)
            if resolved & set(e.affiliations):
                add(0.08, f"affiliation agrees: {short_id(sorted(resolved & set(e.affiliations))[0])}")
                corroborated = True
            elif resolved:
                add(-0.1, f"affiliation differs: {', '.join(short_id(r) for r in sorted(resolved))} there")
        shared = rec.same_as & e.same_as
        if shared:
            add(0.3, f"both link to {sorted(shared)[0]}")
            corroborated = True
        else:
            for theirs in sorted(rec.same_as):
                scheme = _scheme(theirs)
                clash = [o for o in e.same_as if scheme and _scheme(o) == scheme]
                if clash:
                    add(-0.6, f"identifiers differ: {theirs} there, {sorted(clash)[0]} here")
                    break
        if not person and best.full and _context_dependent(best) and not corroborated and score > 0.75:
            reasons.append(f"capped at 0.75: \"{best.ours.text}\" names a body only in context; "
                           "a country, city, affiliation or identifier must agree")
            score = 0.75
        if not best.full and score > 0.8:
            reasons.append("capped at 0.80: part of the name differs, whatever else agrees")
            score = 0.8
        if person and best.full and len(best.theirs.tokens or (1,)) < 2 and score > 0.6:
            reasons.append("capped at 0.60: one name word is not enough for a person")
            score = 0.6
        score = round(min(1.0, max(0.0, score)), 3)
        return Candidate(e, score, reasons, best)

    def _known_country(self, values: set[str]) -> bool:
        return any(v in self.countries or (len(v) == 2 and v.isupper()) for v in values)

    def _resolve_orgs(self, names: list[str]) -> set[str]:
        out: set[str] = set()
        for text in names:
            if text.startswith(str(ID)):
                out.add(text)
                continue
            probe = Record(id="", names=[text], family="Organization")
            for c in self.match(probe, family="Organization", floor=self.threshold):
                out.add(c.entity.id)
        return out

    def normalise_country(self, value: str) -> set[str]:
        """The keys a country value compares by: its ISO code when we know it, and its folded name."""
        value = value.strip()
        if not value:
            return set()
        if len(value) == 2 and value.isalpha():
            return {value.upper()}
        key = " ".join(words(value))
        code = self.countries.get(key)
        return {key, code} if code else {key}


def short_id(iri: str) -> str:
    """'organization/ica' for one of our IRIs (what the reconciliation service calls its id)."""
    return iri[len(str(ID)):] if iri.startswith(str(ID)) else iri


def _scheme(iri: str) -> str | None:
    for host in mappings.OBJECT_PATTERNS:
        if host in iri:
            return host
    return None


def _context_dependent(sim: Similarity) -> bool:
    """A name like "Ministry of Trade": a head word and nothing but generic words, no acronym."""
    toks = set(sim.ours.tokens or sim.theirs.tokens)
    if sim.ours.via or any(is_acronym(w.strip(",.()")) for w in f"{sim.ours.text} {sim.theirs.text}".split()):
        return False
    return bool(toks & CONTEXT_HEADS) and toks <= GENERIC


# ----------------------------------------------------------------------------- our entities

_SCHEMA_NS = (str(SDO), "https://schema.org/")


def _local(iri: object) -> str:
    text = str(iri)
    return re.split(r"[#/]", text.rstrip("/#"))[-1]


def family_of(types: Iterable[object]) -> str | None:
    """Organization, Person, Place or Event for a set of type IRIs or names; None if none fits."""
    fams = {TYPE_FAMILY.get(_local(t).lower()) for t in types} - {None}
    for fam in FAMILIES:
        if fam in fams:
            return fam
    return None


def _text(graph: Graph, s, p) -> list[str]:
    vals = sorted(graph.objects(s, p), key=lambda o: (getattr(o, "language", None) not in ("en", None),
                                                     str(getattr(o, "language", "") or ""), str(o)))
    return [str(v) for v in vals if isinstance(v, Literal) and str(v).strip()]


def our_entities(graph: Graph) -> tuple[list[Record], dict[str, str]]:
    """Our Organization, Person, Place and Event entities as records, and our country names -> codes."""
    countries: dict[str, str] = {}
    country_keys: dict[URIRef, set[str]] = {}
    for place in graph.subjects(RDF.type, SDO.Country):
        codes = {str(c) for c in graph.objects(place, COOP.iso3166Alpha2)}
        names = {" ".join(words(n)) for n in _text(graph, place, SDO.name) + _text(graph, place, SDO.alternateName)}
        for n in names:
            if codes:
                countries[n] = sorted(codes)[0]
        country_keys[place] = names | codes

    def place_keys(place, depth=0) -> tuple[set[str], set[str]]:
        cs: set[str] = set()
        cities: set[str] = set()
        if place in country_keys:
            return set(country_keys[place]), cities
        if (place, RDF.type, SDO.City) in graph:
            cities |= {" ".join(words(n)) for n in _text(graph, place, SDO.name) + _text(graph, place, SDO.alternateName)}
        for addr in graph.objects(place, SDO.address):
            cs |= {str(c) for c in graph.objects(addr, SDO.addressCountry)}
            cities |= {" ".join(words(str(c))) for c in graph.objects(addr, SDO.addressLocality)}
        if depth < 3:
            for up in graph.objects(place, SDO.containedInPlace):
                more_c, more_cities = place_keys(up, depth + 1)
                cs |= more_c
                cities |= more_cities
        for code in list(cs):
            cs |= {n for n, c in countries.items() if c == code}
        return cs, cities

    out = []
    for s in sorted(set(graph.subjects(RDF.type, None))):
        if not isinstance(s, URIRef) or not str(s).startswith(str(ID)):
            continue
        types = sorted(_local(t) for t in graph.objects(s, RDF.type) if str(t).startswith(_SCHEMA_NS))
        fam = family_of(types)
        if fam is None or ids.split(str(s))[0] in ("address", "coordinates", "role", "webpage"):
            continue
        names = _text(graph, s, SDO.name) + _text(graph, s, SDO.alternateName)
        if fam == "Person":
            given, family = _text(graph, s, SDO.givenName), _text(graph, s, SDO.familyName)
            if given and family:
                names.append(f"{given[0]} {family[0]}")
        names = list(dict.fromkeys(names))
        if not names:
            continue
        rec = Record(id=str(s), names=names, family=fam, types=types)
        places = [s] if fam == "Place" else []
        for p in (SDO.location, SDO.areaServed, SDO.address):
            places += list(graph.objects(s, p))
        for place in places:
            if (place, RDF.type, SDO.PostalAddress) in graph:
                rec.countries |= {str(c) for c in graph.objects(place, SDO.addressCountry)}
                rec.cities |= {" ".join(words(str(c))) for c in graph.objects(place, SDO.addressLocality)}
                continue
            cs, cities = place_keys(place)
            rec.countries |= cs
            rec.cities |= cities
        for code in list(rec.countries):
            rec.countries |= {n for n, c in countries.items() if c == code}
        for p in (SDO.foundingDate, SDO.startDate, SDO.birthDate):
            for d in graph.objects(s, p):
                m = re.match(r"^(\d{4})", str(d))
                if m:
                    rec.years.add(int(m.group(1)))
        if fam == "Person":
            for p in (SDO.worksFor, SDO.memberOf, SDO.affiliation):
                for o in graph.objects(s, p):
                    targets = list(graph.objects(o, SDO.worksFor)) + list(graph.objects(o, SDO.memberOf))
                    for t in targets or [o]:
                        if str(t).startswith(str(ID) + "organization/"):
                            rec.affiliations.append(str(t))
            rec.affiliations = sorted(set(rec.affiliations))
        rec.same_as = {str(o) for p in (SDO.sameAs, SKOS.exactMatch) for o in graph.objects(s, p)}
        desc = _text(graph, s, SDO.description)
        rec.description = desc[0] if desc else ""
        out.append(rec)
    return out, countries


def matcher_for(graph: Graph, threshold: float = MATCH_THRESHOLD) -> Matcher:
    """A Matcher over the entities of ``graph`` (our union graph)."""
    entities, countries = our_entities(graph)
    return Matcher(entities, countries, threshold)


# ----------------------------------------------------------------------------- the other dataset

#: CSV column roles and the header names recognised for each (case and spacing ignored).
COLUMN_ROLES = {
    "id": ("id", "identifier", "uri", "iri", "url", "@id"),
    "name": ("name", "label", "title", "org_name", "organisation", "organization", "full_name"),
    "alternate_names": ("alternate_names", "alternatename", "alternate_name", "alt_names", "aliases",
                        "alias", "acronym", "acronyms", "other_names", "short_name"),
    "type": ("type", "kind", "category", "entity_type"),
    "city": ("city", "locality", "town", "addresslocality"),
    "country": ("country", "country_code", "addresscountry", "nation"),
    "date": ("date", "founded", "founding_date", "foundingdate", "start_date", "startdate", "year",
             "birth_date"),
    "affiliation": ("affiliation", "works_for", "worksfor", "employer", "member_of", "parent",
                    "parent_organization"),
    "same_as": ("same_as", "sameas", "wikidata", "links", "identifiers"),
}
_MULTI = re.compile(r"\s*[|;]\s*")


@dataclass
class OtherDataset:
    """The records of the other dataset, and how to write their identifiers as CURIEs."""

    path: Path
    records: list[Record]
    prefixes: dict[str, str]  # prefix -> namespace, for object CURIEs
    skipped: list[str] = field(default_factory=list)


def read_other(path: Path, *, loader=None, columns: dict[str, str] | None = None,
               id_prefix: str | None = None, matcher: Matcher | None = None) -> OtherDataset:
    """Read another dataset: RDF (Turtle, N-Triples, RDF/XML, JSON-LD...) or CSV with a header."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in (".csv", ".tsv"):
        return _read_csv(path, columns or {}, id_prefix, matcher)
    if columns:
        raise InputError("--column applies to CSV input only")
    from .safety import parse_into
    graph = Graph()
    parse_into(graph, path, loader=loader, label=str(path))
    return _read_rdf(path, graph, matcher)


def _split_prefix(id_prefix: str | None) -> tuple[str, str] | None:
    if not id_prefix:
        return None
    name, sep, ns = id_prefix.partition("=")
    if not sep:
        name, ns = "other", id_prefix
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", name) or not re.match(r"^https?://\S+[/#]$", ns):
        raise InputError(f"--id-prefix {id_prefix!r}: write NAME=IRI ending in / or #, e.g. "
                         "partner=https://example.org/partners/")
    return name, ns


def _read_csv(path: Path, columns: dict[str, str], id_prefix: str | None, matcher: Matcher | None) -> OtherDataset:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}:1: empty file: the first line must name the columns") from None
    norm = {re.sub(r"[\s-]+", "_", h.strip().lower()): i for i, h in enumerate(header)}
    roles: dict[str, int] = {}
    for role, given in columns.items():
        if role not in COLUMN_ROLES:
            raise InputError(f"--column {role}={given}: unknown role {role!r}; roles: {', '.join(COLUMN_ROLES)}")
        key = re.sub(r"[\s-]+", "_", given.strip().lower())
        if key not in norm:
            raise InputError(f"{path}:1: --column {role}={given}: no such column; columns are: {', '.join(header)}")
        roles[role] = norm[key]
    for role, names in COLUMN_ROLES.items():
        if role not in roles:
            for n in names:
                if n in norm and norm[n] not in roles.values():
                    roles[role] = norm[n]
                    break
    if "name" not in roles:
        raise InputError(f"{path}:1: no name column (columns are: {', '.join(header)}); name one with "
                         "--column name=COLUMN")
    prefix = _split_prefix(id_prefix)
    records: list[Record] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        get = lambda role: row[roles[role]].strip() if role in roles else ""  # noqa: E731
        name = get("name")
        if not name:
            raise InputError(f"{path}:{line}: empty name")
        raw_id = get("id") or f"row-{line}"
        if re.match(r"^(https?|urn):\S+$", raw_id):
            iri = raw_id
        elif prefix:
            iri = prefix[1] + re.sub(r"[^A-Za-z0-9._~-]", "-", raw_id)
        else:
            raise InputError(f"{path}:{line}: id {raw_id!r} is not an IRI; give --id-prefix NAME=IRI "
                             "(e.g. partner=https://example.org/partners/) so links have an object IRI")
        if iri in seen:
            raise InputError(f"{path}:{line}: id {raw_id!r} again (first on line {seen[iri]})")
        seen[iri] = line
        rec = Record(id=iri, names=[name] + [a for a in _MULTI.split(get("alternate_names")) if a], line=line)
        if get("type"):
            rec.family = family_of([get("type")]) or _bad_type(path, line, get("type"))
        _fill_places(rec, [c for c in _MULTI.split(get("country")) if c], [c for c in _MULTI.split(get("city")) if c], matcher)
        rec.years = _years(_MULTI.split(get("date")))
        rec.affiliations = [a for a in _MULTI.split(get("affiliation")) if a]
        rec.same_as = {_expand_known(v) for v in re.split(r"[\s|;]+", get("same_as")) if v}
        records.append(rec)
    prefixes = {prefix[0]: prefix[1]} if prefix else {}
    return OtherDataset(path, records, prefixes)


def _bad_type(path: Path, line: int, value: str) -> str:
    raise InputError(f"{path}:{line}: type {value!r} is not one we match; use Organization, Person, Place or Event")


def _expand_known(value: str) -> str:
    if re.match(r"^Q[1-9][0-9]*$", value):
        return f"http://www.wikidata.org/entity/{value}"
    if value.startswith(("wd:", "wikidata:")):
        return "http://www.wikidata.org/entity/" + value.split(":", 1)[1]
    if value.startswith("https://www.wikidata.org/wiki/"):
        return "http://www.wikidata.org/entity/" + value.rsplit("/", 1)[1]
    return value


def _years(values: Iterable[str]) -> set[int]:
    out = set()
    for v in values:
        m = re.match(r"^\s*(\d{4})", v or "")
        if m:
            out.add(int(m.group(1)))
    return out


def _fill_places(rec: Record, countries: list[str], cities: list[str], matcher: Matcher | None) -> None:
    for c in countries:
        rec.countries |= matcher.normalise_country(c) if matcher else {c.upper() if len(c) == 2 else " ".join(words(c))}
    for c in cities:
        rec.cities.add(" ".join(words(c)))


def _schema_terms(name: str) -> list[URIRef]:
    return [URIRef(ns + name) for ns in _SCHEMA_NS]


def _read_rdf(path: Path, graph: Graph, matcher: Matcher | None) -> OtherDataset:
    name_props = _schema_terms("name") + [RDFS.label, SKOS.prefLabel, FOAF.name, DCTERMS.title]
    alt_props = _schema_terms("alternateName") + _schema_terms("legalName") + [SKOS.altLabel]

    def objs(s, names: list[str]) -> list:
        out = []
        for n in names:
            for p in _schema_terms(n):
                out += sorted(graph.objects(s, p), key=str)
        return out

    def texts(s, props) -> list[str]:
        out = []
        for p in props:
            out += _text(graph, s, p)
        return list(dict.fromkeys(out))

    def node_names(o) -> list[str]:
        if isinstance(o, Literal):
            return [str(o)] if str(o).strip() else []
        return texts(o, name_props)

    records = []
    subjects = sorted({s for p in name_props + _schema_terms("givenName") for s in graph.subjects(p, None)
                       if isinstance(s, URIRef)}, key=str)
    for s in subjects:
        types = list(graph.objects(s, RDF.type))
        fam = family_of(types)
        if types and fam is None:
            continue  # a thing of a kind we do not match (an address, a document...)
        names = texts(s, name_props)
        given, family = objs(s, ["givenName"]), objs(s, ["familyName"])
        if given and family:
            names.append(f"{given[0]} {family[0]}")
        if not names:
            continue
        rec = Record(id=str(s), names=list(dict.fromkeys(names + texts(s, alt_props))), family=fam)
        countries, cities = [], []
        frontier = [s]
        for _depth in range(3):
            nxt = []
            for node in frontier:
                countries += [str(c) if isinstance(c, Literal) else (node_names(c) or [str(c)])[0]
                              for c in objs(node, ["addressCountry"])]
                cities += [str(c) for c in objs(node, ["addressLocality"])]
                for o in objs(node, ["location", "areaServed", "address", "containedInPlace"]):
                    if isinstance(o, Literal):
                        cities.append(str(o))
                        continue
                    kinds = {_local(t).lower() for t in graph.objects(o, RDF.type)}
                    if "country" in kinds:
                        countries += node_names(o)[:1]
                    elif kinds & {"city", "place"}:
                        cities += node_names(o)[:1]
                    nxt.append(o)
            frontier = nxt
        _fill_places(rec, countries, cities, matcher)
        rec.years = _years(str(d) for d in objs(s, ["foundingDate", "startDate", "birthDate"]) + list(graph.objects(s, DCTERMS.date)))
        for o in objs(s, ["worksFor", "memberOf", "affiliation", "parentOrganization"]):
            inner = objs(o, ["worksFor", "memberOf"]) if not isinstance(o, Literal) else []
            for t in inner or [o]:
                rec.affiliations += node_names(t)
        rec.same_as = {str(o) for p in _schema_terms("sameAs") + [OWL.sameAs, SKOS.exactMatch]
                       for o in graph.objects(s, p) if isinstance(o, URIRef)}
        records.append(rec)
    prefixes = {p: str(ns) for p, ns in graph.namespaces()
                if p and str(ns) and any(r.id.startswith(str(ns)) for r in records)}
    return OtherDataset(path, records, prefixes)


# ----------------------------------------------------------------------------- linking

@dataclass
class LinkResult:
    other: OtherDataset
    rows: list[tuple[Record, Candidate]]  # (their record, our candidate), in output order
    known: int  # candidates left out because a mapping set already accepts or rejects the pair
    min_score: float


def discover(matcher: Matcher, other: OtherDataset, *, family: str | None = None,
             min_score: float = MATCH_THRESHOLD, decided: set[tuple[str, str]] = frozenset(),
             limit: int = 3) -> LinkResult:
    """Candidates for every record of ``other`` at or above ``min_score``, best first per record."""
    rows = []
    known = 0
    for rec in other.records:
        if family and rec.family and rec.family != family:
            continue
        for cand in matcher.match(rec, family=family, limit=limit, floor=min(min_score, REPORT_FLOOR)):
            if cand.score < min_score:
                continue
            if (cand.entity.id, rec.id) in decided:
                known += 1
                continue
            rows.append((rec, cand))
    return LinkResult(other, rows, known, min_score)


def decided_pairs(data_dir: Path) -> set[tuple[str, str]]:
    """(our IRI, their IRI) pairs that a mapping set already accepts or rejects."""
    pairs = set()
    for path in mappings.mapping_files(data_dir):
        for m in mappings.read(path).rows:
            pairs.add((str(m.subject), str(m.object)))
    return pairs


def candidate_set(result: LinkResult) -> tuple[dict, list[str], list[dict[str, str]]]:
    """The SSSOM header, columns and rows of a candidate set."""
    curie_map = {prefix: f"{ID}{kind}/" for kind, prefix in ids.KINDS.items()
                 if any(c.entity.id.startswith(f"{ID}{kind}/") for _r, c in result.rows)}
    objects = [r.id for r, _c in result.rows]
    known = {"wikidata": "http://www.wikidata.org/entity/", "geonames": "https://sws.geonames.org/",
             "ror": "https://ror.org/"}
    for prefix, ns in sorted({**known, **result.other.prefixes}.items()):
        if any(o.startswith(ns) for o in objects) and prefix not in curie_map and prefix not in mappings.BUILTIN_PREFIXES:
            curie_map[prefix] = ns
    n = 0
    for o in objects:
        try:
            mappings.compress(o, {**curie_map, **mappings.BUILTIN_PREFIXES})
        except ValueError:
            ns = re.match(r"^(.*[/#:])", o).group(1)
            n += 1
            while f"other{n}" in curie_map:
                n += 1
            curie_map[f"other{n}"] = ns
    full = {**curie_map, **mappings.BUILTIN_PREFIXES}
    header = {
        "curie_map": curie_map,
        "mapping_set_id": f"https://w3id.org/coopgraph/candidates/{result.other.path.name}",
        "mapping_set_title": f"Candidate links from coopgraph to {result.other.path.name}",
        "mapping_set_description": (f"Lexical candidates found by coopgraph link at or above score "
                                    f"{result.min_score}; review them, then accept rows with coopgraph accept."),
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "mapping_tool": "coopgraph link",
        "mapping_tool_version": __version__,
    }
    columns = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
               "mapping_justification", "confidence", "match_string", "comment"]
    rows = []
    for rec, cand in result.rows:
        rows.append({
            "subject_id": mappings.compress(cand.entity.id, full),
            "subject_label": cand.entity.label,
            "predicate_id": "skos:exactMatch",
            "object_id": mappings.compress(rec.id, full),
            "object_label": rec.label,
            "mapping_justification": "semapv:LexicalMatching",
            "confidence": f"{cand.score:.3f}",
            "match_string": cand.name.theirs.text,
            "comment": cand.explanation,
        })
    return header, columns, rows


def render(result: LinkResult, fmt: str) -> str:
    """The candidate set as SSSOM TSV (default), CSV, or RDF (ttl, nt, jsonld)."""
    header, columns, rows = candidate_set(result)
    if fmt == "sssom":
        return mappings.render(header, columns, rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["row", "our_id", "our_name", "their_id", "their_name", "score", "match", "explanation"])
        for n, (rec, cand) in enumerate(result.rows, start=1):
            writer.writerow([n, cand.entity.id, cand.entity.label, rec.id, rec.label, f"{cand.score:.3f}",
                             "yes" if cand.match else "no", cand.explanation])
        return buf.getvalue()
    return _rdf(result, header, fmt)


def _rdf(result: LinkResult, header: dict, fmt: str) -> str:
    """The SSSOM RDF form: one owl:Axiom per candidate (IRIs, not blank nodes, so output is stable)."""
    from . import export
    from .build import bind_prefixes
    sssom = mappings.SSSOM_NS
    semapv = mappings.SEMAPV
    g = Graph()
    bind_prefixes(g)
    g.bind("sssom", sssom)
    g.bind("semapv", semapv)
    set_iri = URIRef(header["mapping_set_id"])
    g.add((set_iri, RDF.type, URIRef(sssom + "MappingSet")))
    g.add((set_iri, DCTERMS.title, Literal(header["mapping_set_title"])))
    g.add((set_iri, DCTERMS.license, URIRef(header["license"])))
    for n, (rec, cand) in enumerate(result.rows, start=1):
        m = URIRef(f"{set_iri}#{n}")
        g.add((set_iri, URIRef(sssom + "mappings"), m))
        g.add((m, RDF.type, OWL.Axiom))
        g.add((m, OWL.annotatedSource, URIRef(cand.entity.id)))
        g.add((m, OWL.annotatedProperty, SKOS.exactMatch))
        g.add((m, OWL.annotatedTarget, URIRef(rec.id)))
        g.add((m, URIRef(sssom + "mapping_justification"), URIRef(semapv + "LexicalMatching")))
        g.add((m, URIRef(sssom + "confidence"), Literal(f"{cand.score:.3f}", datatype=URIRef("http://www.w3.org/2001/XMLSchema#double"))))
        g.add((m, URIRef(sssom + "subject_label"), Literal(cand.entity.label)))
        g.add((m, URIRef(sssom + "object_label"), Literal(rec.label)))
        g.add((m, RDFS.comment, Literal(cand.explanation)))
    if fmt == "nt":
        return export.ntriples(g)
    if fmt == "ttl":
        return export.turtle(g)
    if fmt == "jsonld":
        doc = json.loads(g.serialize(format="json-ld", auto_compact=False))
        return json.dumps(sorted(doc, key=lambda d: d.get("@id", "")), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    raise InputError(f"unknown format {fmt!r}")


# ----------------------------------------------------------------------------- accept

@dataclass
class Accepted:
    into: Path
    rows: list[dict[str, str]]
    created: bool


def accept(project, candidates: Path, into: Path, *, rows: list[int] | None = None,
           min_score: float | None = None, reviewer: str, reviewer_id: str | None = None,
           predicate: str | None = None, reject: bool = False, source: str | None = None,
           identity: bool = False, date: str | None = None) -> Accepted:
    """Append reviewed candidates (or rejections) to a mapping set, atomically; refuse duplicates and conflicts."""
    import datetime as _dt
    from . import export
    from .build import load
    from .namespaces import RDF as _RDF, SOURCES_GRAPH, SRC
    if not reviewer.strip():
        raise InputError("--reviewer: give the name of the person who reviewed the candidates")
    if predicate and predicate not in mappings.PREDICATES:
        raise InputError(f"--predicate {predicate!r}: use one of {', '.join(mappings.PREDICATES)}")
    cand_set = mappings.read(candidates, role="candidates")
    selected: list[mappings.Mapping] = []
    if rows:
        for n in rows:
            if not 1 <= n <= len(cand_set.rows):
                raise InputError(f"--row {n}: {candidates} has rows 1 to {len(cand_set.rows)}")
            selected.append(cand_set.rows[n - 1])
    else:
        floor = MATCH_THRESHOLD if min_score is None else min_score
        selected = [m for m in cand_set.rows if (m.confidence or 0.0) >= floor]
    if not selected:
        raise InputError(f"{candidates}: no candidate selected (give --row N or a lower --min-score)")
    loaded = load(project)
    entities = {s for s, _p, _o, _g in loaded.dataset.quads((None, _RDF.type, None, None))}
    sources = set(loaded.dataset.graph(SOURCES_GRAPH).subjects(_RDF.type, COOP.Source))
    created = not into.exists()
    if created:
        if not source:
            raise InputError(f"{into} does not exist: give --source KEY (a source described in data/sources.trig, "
                             "whose graph will hold the links) to create it")
        if URIRef(str(SRC) + source) not in sources:
            raise InputError(f"--source {source}: src:{source} is not described in data/sources.trig; add "
                             f"`src:{source} a coop:Source ; schema:name \"...\"@en .` there first")
        stem = into.name[: -len(mappings.SUFFIX)] if into.name.endswith(mappings.SUFFIX) else None
        if not stem:
            raise InputError(f"{into}: a mapping set file name ends in {mappings.SUFFIX}")
        header = {
            "curie_map": {},
            "mapping_set_id": f"https://w3id.org/coopgraph/mappings/{into.name}",
            "mapping_set_title": f"coopgraph entities to {cand_set.header.get('mapping_set_title', stem).replace('Candidate links from coopgraph to ', '')}",
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "mapping_provider": f"{SRC}{source}",
            "extension_definitions": [{"slot_name": mappings.IDENTITY_SLOT, "property": "coop:identityLinks",
                                       "type_hint": "xsd:boolean"}],
            mappings.IDENTITY_SLOT: identity,
        }
        header["curie_map"].update({"coop": str(COOP), "xsd": "http://www.w3.org/2001/XMLSchema#"})
        columns = list(mappings.WRITE_COLUMNS)
        existing_text = ""
        target = None
    else:
        target = mappings.read(into)
        header = dict(target.header)
        columns = list(target.columns)
        existing_text = into.read_text(encoding="utf-8")
    curie_map = dict(header["curie_map"])
    new_rows: list[dict[str, str]] = []
    today = date or _dt.date.today().isoformat()
    for m in selected:
        row_no = cand_set.rows.index(m) + 1
        values = {
            "subject_id": None, "subject_label": m.values.get("subject_label", ""),
            "predicate_id": predicate or m.predicate, "predicate_modifier": "Not" if reject else "",
            "object_id": None, "object_label": m.values.get("object_label", ""),
            "mapping_justification": "semapv:LexicalMatching", "confidence": m.values.get("confidence", ""),
            "reviewer_label": reviewer.strip(), "reviewer_id": reviewer_id or "", "mapping_date": today,
            "mapping_tool": "coopgraph link " + cand_set.header.get("mapping_tool_version", ""),
            "match_string": m.values.get("match_string", ""), "comment": m.values.get("comment", ""),
        }
        for col, iri in (("subject_id", str(m.subject)), ("object_id", str(m.object))):
            try:
                values[col] = mappings.compress(iri, {**curie_map, **mappings.BUILTIN_PREFIXES})
            except ValueError:
                prefix, _, _local_part = m.values[col].partition(":")
                ns = cand_set.curie_map[prefix]
                if prefix in curie_map and curie_map[prefix] != ns:
                    raise InputError(f"{into}: prefix {prefix!r} already means <{curie_map[prefix]}>, "
                                     f"the candidates use it for <{ns}>: rename it in one file") from None
                curie_map[prefix] = ns
                values[col] = m.values[col]
        if m.subject not in entities:
            raise InputError(f"{candidates}: row {row_no}: {m.values['subject_id']} is not an entity of the graph")
        if target is not None:
            for old in target.rows:
                if old.subject == m.subject and old.object == m.object:
                    what = "rejects" if old.negated else "accepts"
                    raise CoopgraphError(f"{candidates}: row {row_no} is already decided: {into}:{old.line} {what} "
                                     f"{old.values['subject_id']} -> {old.values['object_id']}; nothing written")
        new_rows.append(values)
    if reviewer_id:
        mappings.expand(reviewer_id, {**curie_map, **mappings.BUILTIN_PREFIXES}, "--reviewer-id", "reviewer_id")
    for col in ("predicate_modifier", "confidence", "reviewer_label", "reviewer_id", "mapping_date",
                "mapping_tool", "match_string", "comment", "subject_label", "object_label"):
        if col not in columns and any(r.get(col) for r in new_rows):
            columns.append(col)
    header["curie_map"] = curie_map
    if target is None:  # a new file: the columns that hold something
        columns = [c for c in columns if c in mappings.REQUIRED_COLUMNS or any(r.get(c) for r in new_rows)]
    if target is not None and curie_map == target.header["curie_map"] and columns == target.columns:
        text = existing_text.rstrip("\n") + "\n" + mappings.format_rows(columns, new_rows)
    else:
        old_rows = [m.values for m in target.rows] if target is not None else []
        text = mappings.render(header, columns, old_rows + new_rows)
    # Check the result as the build will read it, before anything is written.
    tmp = into.parent / f".{into.name}.check"
    into.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.write_text(text, encoding="utf-8")
        checked = mappings.read(tmp, label=f"{into} (after accepting)")
        from rdflib import Dataset
        mappings.add_to_dataset(Dataset(), checked, entities, sources)
    finally:
        tmp.unlink(missing_ok=True)
    export.write_atomic(into, text)
    return Accepted(into, new_rows, created)
