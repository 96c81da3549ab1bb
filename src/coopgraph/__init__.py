"""coopgraph: a curated, validated knowledge graph of the ILO's work on cooperatives in Europe and
Central Asia, and the toolkit that builds, checks, queries and exports it.

The public API, one function per step of the data flow (sources -> graph -> validate -> query,
export):

* :func:`coopgraph.build.load` reads ontology/ and data/ into a Dataset (one graph per source);
* :func:`coopgraph.validate.validate` checks a graph against shapes/ and returns a Report;
* :func:`coopgraph.queries.run` runs a checked SPARQL query;
* :mod:`coopgraph.export` writes the dumps and JSON-LD; :mod:`coopgraph.embed` the embed blocks;
* :func:`coopgraph.pipeline.build` does all of it for ``coopgraph build``.
"""

__version__ = "0.1.0"

# Before anything else: pyld's document loader and rdflib's SPARQL engine are guarded as soon as
# either is imported, by whichever module (coopgraph.safety; it imports only the standard library).
from . import safety as _safety  # noqa: E402,F401
