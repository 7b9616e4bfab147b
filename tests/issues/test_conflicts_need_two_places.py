"""Regression: two rows of one conflict group from the same paragraph were linked as conflicting with each other."""

from rdflib import Graph
from rdflib.namespace import PROV

from nmbkg.config import NMB


def test_conflicting_records_come_from_different_places(dist):
    """Every nmb:conflictsWith pair has two different locators."""
    g = Graph().parse(dist / "nmbkg.nt", format="nt")
    pairs = list(g.subject_objects(NMB.conflictsWith))
    assert pairs
    for a, b in pairs:
        loc = [g.value(g.value(x, PROV.wasDerivedFrom), NMB.locator) for x in (a, b)]
        assert None not in loc and loc[0] != loc[1], (a, b, loc)
