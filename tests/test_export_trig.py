"""Regression: the TriG dump declared only the prefixes its graph bodies used, so a graph named
graph:ontology (whose body never uses graph:) was written with an unbound prefix and did not parse."""

from __future__ import annotations

from rdflib import Dataset

from coopgraph import export


def test_trig_dump_declares_the_prefix_of_every_graph_name(dataset):
    text = export.trig(dataset)
    reread = Dataset()
    reread.parse(data=text, format="trig")
    def quads(ds):
        return {(s, p, o, str(getattr(g, "identifier", g))) for s, p, o, g in ds.quads((None, None, None, None))}

    assert quads(reread) == quads(dataset)
    names = {str(g.identifier) for g in reread.graphs() if len(g)}
    assert names == {str(g) for g in export.graph_names(dataset)}
