"""Regression: synth permuted current densities as strings, so '1' and '1.0' (one rate, two spellings in
kg/measurements.tsv) could take two different real rates' places and make them equal: at 100x that gave 68
conflict_unmarked warnings between rows of one synthetic work."""

from conftest import ROOT

from nmbkg.config import Project
from nmbkg.ontology import load_ontology
from nmbkg.records import load_records
from nmbkg.synth import Copier, read_pools
from nmbkg.vocab import vocabularies


def test_rows_with_different_rates_keep_different_rates_in_every_copy():
    project = Project(ROOT)
    rs, _ = load_records(project.kg_dir, vocabularies(load_ontology(project)))
    pools = read_pools(rs)
    rows = [m for m in rs.rows("measurements.tsv") if m.get("current_density")]
    spellings = {m.get("current_density") for m in rows}
    assert {"1", "1.0"} <= spellings  # the case that broke: one number spelled twice in the real records
    for k in range(1, 120):
        copier = Copier(rs, pools, k, seed=0, factor=120, stride=10_000)
        moved: dict[tuple, dict[float, float]] = {}
        for m in rows:
            key = (m.get("property"), m.get("current_density_unit"))
            real, new = float(m.get("current_density")), float(copier.rate(m))
            assert moved.setdefault(key, {}).setdefault(real, new) == new, (k, m.id)
        for key, mapping in moved.items():
            assert len(set(mapping.values())) == len(mapping), (k, key, mapping)
