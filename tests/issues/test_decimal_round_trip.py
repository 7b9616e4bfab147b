"""Regression: xsd:decimal values written as '60' came back from Turtle as '60.0', so dumps did not round-trip."""

from rdflib import Graph, Literal, URIRef

from nmbkg.triples import decimal_literal


def test_decimal_literals_survive_every_syntax():
    """Integral, scientific and trailing-zero decimals keep one lexical form through Turtle and N-Triples."""
    g = Graph()
    for i, v in enumerate(["60", "4.5e-3", "0.50", "3000", "99.93"]):
        g.add((URIRef(f"http://example.org/q{i}"), URIRef("http://example.org/v"), decimal_literal(v)))
    for fmt in ("turtle", "nt", "json-ld"):
        back = Graph().parse(data=g.serialize(format=fmt), format=fmt)
        assert set(back) == set(g), fmt
    assert decimal_literal("4.5e-3") == Literal("0.0045", datatype=decimal_literal("1").datatype)
