"""Static site of the release (dist/site/): home page, one page per entity, SVG plots; also `nmbkg site`."""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from markupsafe import Markup

from .config import DEFAULT_BASE, int_setting

STATIC = Path(__file__).parent / "static" / "site"
NMB = DEFAULT_BASE + "ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_DEF = "http://www.w3.org/2004/02/skos/core#definition"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIX = f"""PREFIX nmb: <{NMB}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX qudt: <http://qudt.org/schema/qudt/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX bibo: <http://purl.org/ontology/bibo/>
"""
# Pattern binding ?work ?ref ?locator for the record ?x.
PROV = """OPTIONAL { ?x prov:wasDerivedFrom ?st . ?st nmb:locator ?locator .
           OPTIONAL { ?st nmb:reportedBy ?work . OPTIONAL { ?work nmb:referenceNumber ?ref } } }"""
PAGE_KINDS = ("electrolyte", "substance", "work")
CATEGORIES = ("liquid", "polymer", "solid")
CAT_COLOURS = {"liquid": "#1f77b4", "polymer": "#d95f02", "solid": "#2a9d3c"}
CAT_MARKERS = {"liquid": "o", "polymer": "s", "solid": "^"}


class Site:
    """Reads the release graph (a pyoxigraph store) and renders the pages."""

    def __init__(self, store, base: str = DEFAULT_BASE, info: dict | None = None, preload: bool = True):
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.store, self.base, self.id_base = store, base, base + "id/"
        self.info = info or {}
        self.env = Environment(loader=FileSystemLoader(STATIC / "templates"), autoescape=select_autoescape(["html"]))
        self.preloaded = preload  # every label read at once (site build) or each on first use (one server page)
        self.labels = self._labels() if preload else {}
        self.pages: set[str] = set()
        self.root = ""

    # ------------------------------------------------------------------ queries and labels
    def q(self, text: str) -> list[dict[str, str]]:
        """Rows of a SELECT as dicts of plain strings (unbound variables absent)."""
        sol = self.store.query(PREFIX + text)
        names = [v.value for v in sol.variables]
        return [{n: r[n].value for n in names if r[n] is not None} for r in sol]

    def _labels(self) -> dict[str, str]:
        """rdfs:label of every labelled IRI (English or plain first)."""
        out: dict[str, str] = {}
        for r in self.store.query(PREFIX + "SELECT ?x ?l { ?x rdfs:label ?l FILTER(isIRI(?x)) } ORDER BY ?x ?l"):
            lang = r["l"].language
            if r["x"].value not in out or lang == "en":
                out[r["x"].value] = r["l"].value
        return out

    def label(self, iri: str) -> str:
        """Label of an IRI, else its local name."""
        if not self.preloaded and iri not in self.labels:
            self.labels[iri] = self._label_of(iri)
        return self.labels.get(iri) or re.split(r"[#/]", iri)[-1]

    def _label_of(self, iri: str) -> str:
        """The rdfs:label of one IRI (English or plain first), '' when it has none."""
        import pyoxigraph as ox

        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return ""
        found = ""  # the rule of _labels: labels in sorted order, the last English one or else the first
        labels = sorted((q.object for q in self.store.quads_for_pattern(node, ox.NamedNode(RDFS_LABEL), None, None)
                         if isinstance(q.object, ox.Literal)), key=str)
        for lab in labels:
            if not found or lab.language == "en":
                found = lab.value
        return found

    # ------------------------------------------------------------------ links
    def page_path(self, iri: str) -> str | None:
        """Site path of an IRI's page (without the relative root), or None when it has none."""
        if iri.startswith(self.id_base):
            rest = iri[len(self.id_base):]
            if rest.split("/", 1)[0] in PAGE_KINDS and rest in self.pages:
                return f"id/{rest}.html"
            return None
        if iri.startswith(NMB):
            local = iri[len(NMB):]
            if f"mechanism/{local}" in self.pages:
                return f"mechanism/{local}.html"
            return f"../docs/ontology.html#{local}"
        return None

    def has_page(self, iri: str) -> bool:
        """True when the site writes a page for this entity (see page_set and the page cap)."""
        path = self.page_path(iri)
        return path is not None and not path.startswith("../")

    def href(self, iri: str) -> str | None:
        """Relative link from the current page to the page of an IRI."""
        path = self.page_path(iri)
        return self.root + path if path else None

    def a(self, iri: str | None, text: str | None = None) -> Markup:
        """HTML link to an IRI's page (or its plain label when it has no page)."""
        if not iri:
            return Markup("")
        text = text if text is not None else self.label(iri)
        h = self.href(iri)
        if h:
            return Markup('<a href="{}">{}</a>').format(h, text)
        if iri.startswith("http") and not iri.startswith(self.id_base):
            return Markup('<a href="{}">{}</a>').format(iri, text)
        return Markup("{}").format(text)

    def src(self, row: dict) -> Markup:
        """'ref N · locator' with a link to the cited work."""
        work = row.get("work")
        name = f"ref {row['ref']}" if row.get("ref") else "review"
        link = self.a(work, name) if work else Markup("")
        loc = row.get("locator", "")
        return Markup('<span class="src">{}{}{}</span>').format(link, " · " if loc and work else "", loc)

    # ------------------------------------------------------------------ rendering
    def enter(self, path: str) -> None:
        """Make links relative to the page at site path `path`."""
        self.root = "../" * path.count("/")

    def render(self, template: str, path: str, **ctx) -> str:
        """Render a page at site path `path` (sets the relative root for links)."""
        self.root = "../" * path.count("/")
        tpl = self.env.get_template(template)
        return tpl.render(root=self.root, version=self.info.get("version", ""), review=self.review(),
                          href=self.href, label=self.label, **ctx)

    def review(self) -> dict:
        """The source review's citation, from the graph."""
        if not hasattr(self, "_review"):
            from .publish import review_citation

            rows = self.q(f"""SELECT ?title ?doi ?authors ?year ?journal ?volume ?pages {{
                <{self.id_base}work/review> dcterms:title ?title .
                OPTIONAL {{ <{self.id_base}work/review> bibo:doi ?doi }}
                OPTIONAL {{ <{self.id_base}work/review> nmb:authorsAsPrinted ?authors }}
                OPTIONAL {{ <{self.id_base}work/review> nmb:publicationYear ?year }}
                OPTIONAL {{ <{self.id_base}work/review> nmb:journalAbbreviation ?journal }}
                OPTIONAL {{ <{self.id_base}work/review> bibo:volume ?volume }}
                OPTIONAL {{ <{self.id_base}work/review> bibo:pages ?pages }} }}""")
            r = rows[0] if rows else {}
            r = {k: r.get(k, "") for k in ("title", "doi", "authors", "year", "journal", "volume", "pages")}
            self._review = dict(r, citation=review_citation(r) if r["title"] else "")
        return self._review


# ---------------------------------------------------------------------------------------------- entity pages
def electrolyte_pages(site: Site) -> Iterable[tuple[str, dict]]:
    """One page per electrolyte: formulation, measurements, interphase species, mechanisms, properties."""
    rows = site.q(f"""SELECT ?x ?cat ?status ?note ?work ?ref ?locator {{ ?x rdfs:label ?label .
        FILTER(STRSTARTS(STR(?x), "{site.id_base}electrolyte/"))
        OPTIONAL {{ ?x nmb:electrolyteCategory ?cat }} OPTIONAL {{ ?x nmb:formulationStatus ?status }}
        OPTIONAL {{ ?x nmb:note ?note }} {PROV} }} ORDER BY ?x""")
    for r in rows:
        e = r["x"]
        if not site.has_page(e):
            continue
        site.enter(entity_path(site, e))
        facts = [("category", Markup('<span class="tag {0}">{0}</span>').format(r.get("cat", ""))),
                 ("classes", classes_of(site, e)),
                 ("formulation", r.get("status", "")),
                 ("named at", site.src(r))]
        if r.get("note"):
            facts.append(("note", r["note"]))
        sections = [components_section(site, e), measurements_section(site, e, "ofElectrolyte"),
                    sei_section(site, f"?x nmb:inElectrolyte <{e}>"),
                    mechanism_section(site, f"?x nmb:inElectrolyte <{e}>"),
                    property_section(site, f"?x nmb:inElectrolyte <{e}>")]
        yield e, {"kind": "electrolyte", "title": site.label(e), "iri": e, "facts": facts,
                  "sections": [s for s in sections if s["rows"]]}


def classes_of(site: Site, iri: str) -> Markup:
    """The nmb classes of a resource, inferred ones tagged."""
    rows = site.q(f"""SELECT ?c ?inf {{ <{iri}> a ?c . FILTER(STRSTARTS(STR(?c), STR(nmb:)))
        OPTIONAL {{ ?st rdf:subject <{iri}> ; rdf:predicate rdf:type ; rdf:object ?c ; nmb:inferred ?inf }} }}""")
    parts = []
    for r in sorted(rows, key=lambda r: site.label(r["c"])):
        tag = Markup(' <span class="tag inferred">inferred</span>') if r.get("inf") else ""
        parts.append(site.a(r["c"]) + tag)
    return Markup(", ").join(parts)


def components_section(site: Site, e: str) -> dict:
    """Constituents of a formulation with their roles and amounts."""
    rows = site.q(f"""SELECT ?s ?role ?v ?u ?printed ?work ?ref ?locator {{ <{e}> nmb:hasComponent ?x .
        ?x nmb:substance ?s ; nmb:role ?role .
        OPTIONAL {{ ?x nmb:amount ?q . ?q nmb:numericValue ?v . OPTIONAL {{ ?q nmb:unit/qudt:symbol ?u }}
                   OPTIONAL {{ ?q nmb:valueAsPrinted ?printed }} }}
        OPTIONAL {{ ?x nmb:valueAsPrinted ?printed }} {PROV} }} ORDER BY ?role ?s""")
    out = [[site.a(r["s"]), site.a(r["role"]), qty(r.get("v"), r.get("u")), r.get("printed", ""), site.src(r)]
           for r in rows]
    return {"title": "Constituents", "head": ["substance", "role", "amount", "as printed", "source"], "rows": out}


def qty(v: str | None, u: str | None) -> str:
    """'value unit' or empty."""
    return f"{v} {u}".strip() if v else ""


def measurements_section(site: Site, iri: str, link: str) -> dict:
    """Measurements of an electrolyte (link ofElectrolyte) or with a cathode (link cathode)."""
    rows = site.q(f"""SELECT ?x ?e ?qc ?v ?u ?printed ?corr ?cell ?j ?ju ?cap ?t ?rt ?cyc ?cath ?ns ?conflict
        ?work ?ref ?locator {{
        ?x nmb:{link} <{iri}> ; nmb:result ?q ; nmb:ofElectrolyte ?e . ?q a ?qc ; nmb:numericValue ?v .
        FILTER(STRSTARTS(STR(?qc), STR(nmb:)))
        OPTIONAL {{ ?q nmb:unit/qudt:symbol ?u }} OPTIONAL {{ ?q nmb:valueAsPrinted ?printed }}
        OPTIONAL {{ ?q nmb:correctedValue ?corr }} OPTIONAL {{ ?x nmb:cellConfiguration ?cell }}
        OPTIONAL {{ ?x nmb:currentDensity ?jq . ?jq nmb:numericValue ?j . OPTIONAL {{ ?jq nmb:unit/qudt:symbol ?ju }} }}
        OPTIONAL {{ ?x nmb:arealCapacity/nmb:numericValue ?cap }}
        OPTIONAL {{ ?x nmb:temperature/nmb:numericValue ?t }} OPTIONAL {{ ?x nmb:atRoomTemperature ?rt }}
        OPTIONAL {{ ?x nmb:cycleNumber ?cyc }} OPTIONAL {{ ?x nmb:cathode ?cath }}
        OPTIONAL {{ ?x nmb:conditionNotStated ?ns }} OPTIONAL {{ ?x nmb:conflictGroup ?conflict }}
        {PROV} }} ORDER BY ?qc ?x""")
    out = []
    for r in _merge(rows, "x", "ns"):
        cond = []
        if r.get("j"):
            cond.append(f"{r['j']} {r.get('ju', '')}".strip())
        if r.get("cap"):
            cond.append(f"{r['cap']} mAh/cm2")
        if r.get("t"):
            cond.append(f"{r['t']} °C")
        elif r.get("rt"):
            cond.append("room temperature")
        if r.get("cyc"):
            cond.append(f"{r['cyc']} cycles")
        if r.get("ns"):
            cond.append("not stated: " + r["ns"])
        value = qty(r["v"], r.get("u"))
        if r.get("printed"):
            value += f" (printed: {r['printed']})"
        if r.get("corr"):
            value += f" (corrected: {r['corr']})"
        if r.get("conflict"):
            value += f" [conflict group {r['conflict']}]"
        first = site.a(r["e"]) if link != "ofElectrolyte" else site.a(r["qc"])
        out.append([first, value if link == "ofElectrolyte" else Markup("{}: {}").format(site.label(r["qc"]), value),
                    r.get("cell", ""), "; ".join(cond), site.a(r.get("cath")) if link == "ofElectrolyte" else "",
                    site.src(r)])
    head = ["quantity" if link == "ofElectrolyte" else "electrolyte", "value", "cell", "conditions",
            "cathode" if link == "ofElectrolyte" else "", "source"]
    return {"title": "Measurements" if link == "ofElectrolyte" else "Measurements with this cathode", "head": head,
            "rows": out}


def _merge(rows: list[dict], key: str, many: str) -> list[dict]:
    """Collapse rows that differ only in a multi-valued variable, joining its values."""
    out: dict[str, dict] = {}
    for r in rows:
        k = r[key]
        if k in out:
            if r.get(many) and r[many] not in out[k].get(many, "").split(", "):
                out[k][many] = ", ".join(filter(None, [out[k].get(many), r[many]]))
        else:
            out[k] = dict(r)
    for r in out.values():  # the order of query rows within a key is not fixed: sort the joined values
        if r.get(many):
            r[many] = ", ".join(sorted(r[many].split(", ")))
    return list(out.values())


def _items(site: Site, joined: str | None) -> list[str]:
    """The IRIs of a value joined by _merge, in label order (the order of query rows is not fixed)."""
    return sorted((x for x in (joined or "").split(", ") if x), key=lambda x: (site.label(x).lower(), x))


def sei_section(site: Site, pattern: str, title: str = "Interphase species") -> dict:
    """SEI observations matching a pattern on ?x."""
    rows = site.q(f"""SELECT ?x ?sp ?it ?e ?c ?origin ?m ?work ?ref ?locator {{ ?x a nmb:SEIObservation .
        {pattern} . ?x nmb:observedInterphase ?i . ?i nmb:hasSpecies ?sp . ?i a ?it .
        FILTER(STRSTARTS(STR(?it), STR(nmb:)))
        OPTIONAL {{ ?x nmb:inElectrolyte ?e }} OPTIONAL {{ ?x nmb:constituent ?c }}
        OPTIONAL {{ ?x nmb:speciesOrigin ?origin }} OPTIONAL {{ ?x nmb:detectedBy ?m }} {PROV} }} ORDER BY ?sp ?x""")
    out = [[site.a(r["sp"]), site.a(r["it"]), site.a(r.get("e")), site.a(r.get("c")), r.get("origin", ""),
            Markup(", ").join(site.a(m) for m in _items(site, r.get("m"))), site.src(r)]
           for r in _merge(rows, "x", "m")]
    return {"title": title, "head": ["species", "interphase", "electrolyte", "from constituent", "origin",
                                     "detected by", "source"], "rows": out}


def mechanism_section(site: Site, pattern: str, title: str = "Mechanisms") -> dict:
    """Mechanism claims matching a pattern on ?x."""
    rows = site.q(f"""SELECT ?x ?mech ?c ?e ?addr ?work ?ref ?locator {{ ?x a nmb:MechanismClaim ; nmb:mechanism ?mech .
        {pattern} . OPTIONAL {{ ?x nmb:constituent ?c }} OPTIONAL {{ ?x nmb:inElectrolyte ?e }}
        OPTIONAL {{ ?x nmb:addresses ?addr }} {PROV} }} ORDER BY ?mech ?x""")
    out = [[site.a(r["mech"]), site.a(r.get("c")), site.a(r.get("e")),
            Markup(", ").join(site.a(a) for a in _items(site, r.get("addr"))), site.src(r)]
           for r in _merge(rows, "x", "addr")]
    return {"title": title, "head": ["mechanism", "constituent", "electrolyte", "addresses", "source"], "rows": out}


def property_section(site: Site, pattern: str) -> dict:
    """Property claims matching a pattern on ?x."""
    rows = site.q(f"""SELECT ?x ?p ?c ?e ?work ?ref ?locator {{ ?x a nmb:PropertyClaim ; nmb:claimedProperty ?p .
        {pattern} . OPTIONAL {{ ?x nmb:constituent ?c }} OPTIONAL {{ ?x nmb:inElectrolyte ?e }} {PROV} }}
        ORDER BY ?p ?x""")
    out = [[site.a(r["p"]), site.a(r.get("c")), site.a(r.get("e")), site.src(r)] for r in rows]
    return {"title": "Reported properties", "head": ["property", "constituent", "electrolyte", "source"], "rows": out}


SUBSTANCE_FIELDS = [("chemicalName", "name"), ("molecularFormula", "formula"), ("smiles", "SMILES"),
                    ("inchiKey", "InChIKey"), ("inchi", "InChI"), ("pubchemCID", "PubChem CID"),
                    ("casNumber", "CAS number"), ("substanceKind", "kind")]


def substance_pages(site: Site) -> Iterable[tuple[str, dict]]:
    """One page per substance; interphase species get their interphase facts first."""
    subs = site.q(f"""SELECT ?x ?work ?ref ?locator {{ ?x rdfs:label ?label .
        FILTER(STRSTARTS(STR(?x), "{site.id_base}substance/")) {PROV} }} ORDER BY ?x""")
    for r in _merge(subs, "x", "locator"):
        s = r["x"]
        if not site.has_page(s):
            continue
        site.enter(entity_path(site, s))
        facts = [("classes", classes_of(site, s))]
        alts = site.q(f"SELECT ?a {{ <{s}> skos:altLabel ?a }} ORDER BY ?a")
        if alts:
            facts.append(("other names", ", ".join(a["a"] for a in alts)))
        for prop, name in SUBSTANCE_FIELDS:
            vals = site.q(f"SELECT ?v {{ <{s}> nmb:{prop} ?v }}")
            if vals:
                facts.append((name, Markup("<code>{}</code>").format(vals[0]["v"]) if prop in ("smiles", "inchi",
                                                                                               "inchiKey") else vals[0]["v"]))
        facts.append(("named at", site.src(r)))
        sections = [sei_section(site, f"?x nmb:observedInterphase/nmb:hasSpecies <{s}>", "Found in interphases"),
                    species_formed_section(site, s),
                    uses_section(site, s),
                    sei_section(site, f"?x nmb:constituent <{s}>", "Interphase species it gives"),
                    mechanism_section(site, f"?x nmb:constituent <{s}>"),
                    property_section(site, f"?x nmb:constituent <{s}>"),
                    measurements_section(site, s, "cathode")]
        yield s, {"kind": "substance", "title": site.label(s), "iri": s, "facts": facts,
                  "sections": [x for x in sections if x["rows"]]}


def species_formed_section(site: Site, s: str) -> dict:
    """Links between a constituent and the interphase species it forms (both directions)."""
    rows = site.q(f"""SELECT ?a ?b {{ {{ <{s}> nmb:formsSpecies ?b BIND(<{s}> AS ?a) }}
        UNION {{ ?a nmb:formsSpecies <{s}> BIND(<{s}> AS ?b) }} }} ORDER BY ?a ?b""")
    out = [[site.a(r["a"]), site.a(r["b"])] for r in rows]
    return {"title": "Forms interphase species", "head": ["constituent", "species"], "rows": out}


def uses_section(site: Site, s: str) -> dict:
    """Formulations that contain a substance, with its role and amount."""
    rows = site.q(f"""SELECT ?e ?role ?v ?u ?work ?ref ?locator {{ ?e nmb:hasComponent ?x . ?x nmb:substance <{s}> ;
        nmb:role ?role . OPTIONAL {{ ?x nmb:amount ?q . ?q nmb:numericValue ?v . OPTIONAL {{ ?q nmb:unit/qudt:symbol ?u }} }}
        {PROV} }} ORDER BY ?e ?role""")
    out = [[site.a(r["e"]), site.a(r["role"]), qty(r.get("v"), r.get("u")), site.src(r)] for r in rows]
    return {"title": "In electrolytes", "head": ["electrolyte", "role", "amount", "source"], "rows": out}


WORK_FIELDS = [("authorsAsPrinted", "authors"), ("publicationYear", "year"), ("journalAbbreviation", "journal")]


def work_pages(site: Site) -> Iterable[tuple[str, dict]]:
    """One page per cited work (and the review): record and every fact attributed to it."""
    works = site.q(f"""SELECT ?x ?title ?ref ?doi ?vol ?pages {{ ?x a bibo:AcademicArticle ; dcterms:title ?title .
        FILTER(STRSTARTS(STR(?x), "{site.id_base}work/"))
        OPTIONAL {{ ?x nmb:referenceNumber ?ref }} OPTIONAL {{ ?x bibo:doi ?doi }}
        OPTIONAL {{ ?x bibo:volume ?vol }} OPTIONAL {{ ?x bibo:pages ?pages }} }} ORDER BY ?x""")
    for w in works:
        iri = w["x"]
        if not site.has_page(iri):
            continue
        site.enter(entity_path(site, iri))
        facts = [("title", w["title"])]
        if w.get("ref"):
            facts.append(("reference number in the review", w["ref"]))
        for prop, name in WORK_FIELDS:
            vals = site.q(f"SELECT ?v {{ <{iri}> nmb:{prop} ?v }}")
            if vals:
                facts.append((name, vals[0]["v"]))
        if w.get("vol") or w.get("pages"):
            facts.append(("volume, pages", ", ".join(filter(None, [w.get("vol"), w.get("pages")]))))
        if w.get("doi"):
            facts.append(("DOI", Markup('<a href="https://doi.org/{0}">{0}</a>').format(w["doi"])))
        sections = [reported_section(site, iri), examples_section(site, iri)]
        yield iri, {"kind": "cited work" if w.get("ref") else "source review", "title": w["title"], "iri": iri,
                    "facts": facts, "sections": [s for s in sections if s["rows"]]}


RECORD_KINDS = {"electrolyte": "electrolyte", "component": "constituent", "measurement": "measurement",
                "sei-observation": "interphase species", "mechanism-claim": "mechanism",
                "property-claim": "property", "strategy-statement": "strategy", "substance": "substance"}


def reported_section(site: Site, w: str) -> dict:
    """Every record whose statement is reported by a work, with what it is about and its locator."""
    rows = site.q(f"""SELECT ?x ?about ?locator {{ ?x prov:wasDerivedFrom ?st . ?st nmb:reportedBy <{w}> ;
        nmb:locator ?locator .
        OPTIONAL {{ ?x nmb:ofElectrolyte|nmb:inElectrolyte ?subject }}
        OPTIONAL {{ ?whole nmb:hasComponent ?x }}
        BIND(COALESCE(?subject, ?whole) AS ?about)
        FILTER(!STRSTARTS(STR(?x), "{site.id_base}work/")) }} ORDER BY ?locator ?x""")
    out = []
    for r in rows:
        kind = r["x"][len(site.id_base):].split("/", 1)[0]
        about = r.get("about") or (r["x"] if kind in ("electrolyte", "substance") else None)
        out.append([RECORD_KINDS.get(kind, kind), site.label(r["x"]), site.a(about), r["locator"]])
    return {"title": "Facts attributed to this work", "head": ["kind", "record", "about", "place in the review"],
            "rows": out}


def examples_section(site: Site, w: str) -> dict:
    """Strategy statements of the review that give this work as an example."""
    rows = site.q(f"""SELECT ?x ?locator {{ ?x nmb:exampleWork <{w}> .
        OPTIONAL {{ ?x prov:wasDerivedFrom ?st . ?st nmb:locator ?locator }} }} ORDER BY ?x""")
    out = [[site.label(r["x"]), r.get("locator", "")] for r in rows]
    return {"title": "Named as an example of a strategy", "head": ["statement", "place in the review"], "rows": out}


def mechanism_pages(site: Site) -> Iterable[tuple[str, dict]]:
    """One page per mechanism that some claim names."""
    mechs = site.q("SELECT DISTINCT ?m ?def { ?x nmb:mechanism ?m . OPTIONAL { ?m skos:definition ?def } } ORDER BY ?m")
    for m in mechs:
        if not site.has_page(m["m"]):
            continue
        site.enter(entity_path(site, m["m"]))
        facts = [("definition", m.get("def", "")), ("term", site.a(m["m"], m["m"][len(NMB):]))]
        sec = mechanism_section(site, f"?x nmb:mechanism <{m['m']}>", "Claims")
        yield m["m"], {"kind": "mechanism", "title": site.label(m["m"]), "iri": m["m"], "facts": facts,
                       "sections": [sec]}


# ---------------------------------------------------------------------------------------------- listings
def listings(site: Site) -> dict[str, dict]:
    """The index pages: electrolytes, substances, SEI species, mechanisms, works."""
    return {"electrolytes.html": electrolyte_listing(site), "substances.html": substance_listing(site),
            "sei-species.html": species_listing(site), "mechanisms.html": mechanism_listing(site),
            "works.html": work_listing(site)}


def electrolyte_listing(site: Site) -> dict:
    """Electrolytes by category with their measurement counts."""
    rows = site.q(f"""SELECT ?x ?cat ?status (COUNT(DISTINCT ?m) AS ?n) {{ ?x nmb:electrolyteCategory ?cat . FILTER(STRSTARTS(STR(?x), "{site.id_base}electrolyte/"))
        OPTIONAL {{ ?x nmb:formulationStatus ?status }} OPTIONAL {{ ?m nmb:ofElectrolyte ?x }} }}
        GROUP BY ?x ?cat ?status""")
    groups = []
    for cat in CATEGORIES:
        rs = sorted((r for r in rows if r["cat"] == cat), key=lambda r: site.label(r["x"]).lower())
        groups.append({"name": f"{cat} electrolytes", "head": ["electrolyte", "formulation", "measurements"],
                       "rows": [[site.a(r["x"]), r.get("status", ""), int(r["n"])] for r in rs]})
    return {"title": "Electrolytes", "intro": "Every formulation named by the review, by category.", "groups": groups}


def substance_listing(site: Site) -> dict:
    """Substances with their chemical family and formula."""
    rows = site.q(f"""SELECT ?x ?f (GROUP_CONCAT(DISTINCT ?c; separator=" ") AS ?cs) {{ ?x rdf:type ?c .
        FILTER(STRSTARTS(STR(?x), "{site.id_base}substance/"))
        FILTER(STRSTARTS(STR(?c), STR(nmb:)) && ?c != nmb:Substance)
        OPTIONAL {{ ?x nmb:molecularFormula ?f }} }} GROUP BY ?x ?f""")
    out = [[site.a(r["x"]), r.get("f", ""), Markup(", ").join(site.a(c) for c in sorted(r.get("cs", "").split()))]
           for r in sorted(rows, key=lambda r: site.label(r["x"]).lower())]
    return {"title": "Substances", "intro": "Salts, solvents, additives, polymers, ceramics and interphase species.",
            "groups": [{"name": "", "head": ["substance", "formula", "classes"], "rows": out}]}


def species_listing(site: Site) -> dict:
    """Species found in interphases, with how many observations name them."""
    rows = site.q("""SELECT ?sp (COUNT(DISTINCT ?x) AS ?n) (COUNT(DISTINCT ?e) AS ?ne) { ?x a nmb:SEIObservation ;
        nmb:observedInterphase/nmb:hasSpecies ?sp . OPTIONAL { ?x nmb:inElectrolyte ?e } } GROUP BY ?sp""")
    out = [[site.a(r["sp"]), int(r["n"]), int(r["ne"])]
           for r in sorted(rows, key=lambda r: (-int(r["n"]), site.label(r["sp"]).lower()))]
    return {"title": "SEI species", "intro": "Species reported in the interphases that the electrolytes form.",
            "groups": [{"name": "", "head": ["species", "observations", "electrolytes"], "rows": out}]}


def mechanism_listing(site: Site) -> dict:
    """Mechanisms with the number of claims."""
    rows = site.q("""SELECT ?m (COUNT(DISTINCT ?x) AS ?n) { ?x nmb:mechanism ?m } GROUP BY ?m""")
    out = [[site.a(r["m"]), int(r["n"])] for r in sorted(rows, key=lambda r: site.label(r["m"]).lower())]
    return {"title": "Mechanisms", "intro": "How constituents are said to act, and on which problem.",
            "groups": [{"name": "", "head": ["mechanism", "claims"], "rows": out}]}


def work_listing(site: Site) -> dict:
    """Cited works by reference number, with the number of facts attributed to each."""
    rows = site.q(f"""SELECT ?x ?ref ?year ?title (COUNT(DISTINCT ?r) AS ?n) {{ ?x dcterms:title ?title .
        FILTER(STRSTARTS(STR(?x), "{site.id_base}work/")) OPTIONAL {{ ?x nmb:referenceNumber ?ref }}
        OPTIONAL {{ ?x nmb:publicationYear ?year }}
        OPTIONAL {{ ?r prov:wasDerivedFrom/nmb:reportedBy ?x FILTER(!STRSTARTS(STR(?r), "{site.id_base}work/")) }} }}
        GROUP BY ?x ?ref ?year ?title""")
    out = [[int(r["ref"]) if r.get("ref") else "", site.a(r["x"], r["title"]), r.get("year", ""), int(r["n"])]
           for r in sorted(rows, key=lambda r: int(r.get("ref", 0)))]
    return {"title": "Cited works", "intro": "The review and the works it cites, numbered as in its reference list.",
            "groups": [{"name": "", "head": ["ref", "title", "year", "facts"], "rows": out}]}


# ---------------------------------------------------------------------------------------------- plots
CONDUCTIVITY_TO_MS_CM = {"http://qudt.org/vocab/unit/MilliS-PER-CentiM": 1.0,
                         "http://qudt.org/vocab/unit/S-PER-CentiM": 1000.0,
                         "http://qudt.org/vocab/unit/S-PER-M": 10.0}
MA_CM2 = NMB + "MilliAmperePerSquareCentimetre"


def _figure(width: float = 8.0, height: float = 4.6):
    """A matplotlib figure with the house style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "nmbkg", "font.size": 10,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt, plt.figure(figsize=(width, height))


def _svg(plt, fig) -> str:
    """The figure as an SVG string without XML prolog, then closed."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "nmbkg"})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def conductivity_plot(site: Site) -> dict:
    """Ionic conductivity against temperature by category; room-temperature values in their own column."""
    rows = site.q("""SELECT ?x ?cat ?v ?u ?t ?rt { ?x nmb:result ?q ; nmb:ofElectrolyte ?e . ?e nmb:electrolyteCategory ?cat .
        ?q a nmb:IonicConductivity ; nmb:numericValue ?v ; nmb:unit ?u .
        OPTIONAL { ?x nmb:temperature/nmb:numericValue ?t } OPTIONAL { ?x nmb:atRoomTemperature ?rt } } ORDER BY ?x""")
    pts, rt, skipped = defaultdict(list), defaultdict(list), 0
    for r in rows:
        f = CONDUCTIVITY_TO_MS_CM.get(r["u"])
        if f is None:
            skipped += 1
        elif r.get("t"):
            pts[r["cat"]].append((float(r["t"]), float(r["v"]) * f))
        elif r.get("rt"):
            rt[r["cat"]].append(float(r["v"]) * f)
        else:
            skipped += 1
    plt, fig = _figure()
    gs = fig.add_gridspec(1, 2, width_ratios=[1, 6], wspace=0.05)
    ax_rt = fig.add_subplot(gs[0])
    ax = fig.add_subplot(gs[1], sharey=ax_rt)
    for i, cat in enumerate(CATEGORIES):
        if rt[cat]:
            xs = [i - 1 + 0.12 * ((k % 5) - 2) / 2 for k in range(len(rt[cat]))]
            ax_rt.scatter(xs, rt[cat], marker=CAT_MARKERS[cat], color=CAT_COLOURS[cat], alpha=.8, s=30)
        if pts[cat]:
            ax.scatter(*zip(*pts[cat]), marker=CAT_MARKERS[cat], color=CAT_COLOURS[cat], alpha=.8, s=30,
                       label=f"{cat} ({len(pts[cat]) + len(rt[cat])})")
    for a in (ax_rt, ax):
        a.set_yscale("log")
        a.grid(True, which="major", alpha=.3)
    ax.tick_params(labelleft=False)
    ax_rt.set_xlim(-1.6, 1.6)
    ax_rt.set_xticks([0])
    ax_rt.set_xticklabels(["RT"])
    ax_rt.set_xlabel("room temp.\n(no number)")
    ax_rt.set_ylabel("Ionic conductivity (mS cm\u207b\u00b9)")
    ax.set_xlabel("Temperature (\u00b0C)")
    ax.legend(title="category (points)", loc="lower right")
    n_t, n_rt = sum(map(len, pts.values())), sum(map(len, rt.values()))
    caption = (f"{n_t} values at a stated temperature and {n_rt} stated only as room temperature (RT, left column); "
               f"{skipped} values without any temperature are left out. Values given in S cm\u207b\u00b9 are "
               f"converted to mS cm\u207b\u00b9.")
    return {"name": "conductivity-temperature", "title": "Ionic conductivity against temperature",
            "svg": Markup(_svg(plt, fig)), "caption": caption}


def cycle_life_plot(site: Site) -> dict:
    """Symmetric-cell life against current density by category."""
    rows = site.q("""SELECT ?x ?cat ?h ?j ?ju { ?x a nmb:SymmetricCellTest ; nmb:result ?q ; nmb:ofElectrolyte ?e .
        ?e nmb:electrolyteCategory ?cat . ?q a nmb:CycleLife ; nmb:numericValue ?h .
        OPTIONAL { ?x nmb:currentDensity ?jq . ?jq nmb:numericValue ?j ; nmb:unit ?ju } } ORDER BY ?x""")
    pts, skipped = defaultdict(list), 0
    for r in rows:
        if r.get("j") and r.get("ju") == MA_CM2 and float(r["j"]) > 0:
            pts[r["cat"]].append((float(r["j"]), float(r["h"])))
        else:
            skipped += 1
    plt, fig, ax = _category_scatter(pts)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="major", alpha=.3)
    ax.set_xlabel("Current density (mA cm\u207b\u00b2)")
    ax.set_ylabel("Symmetric-cell life (h)")
    ax.legend(title="category (points)")
    caption = (f"{sum(map(len, pts.values()))} Na||Na symmetric-cell lives; {skipped} without a current density in "
               "mA cm\u207b\u00b2 are left out.")
    return {"name": "cycle-life-current-density", "title": "Symmetric-cell life against current density",
            "svg": Markup(_svg(plt, fig)), "caption": caption}


def _category_scatter(pts: dict) -> tuple:
    """A figure with one scatter series per electrolyte category (points per category in the legend)."""
    plt, fig = _figure()
    ax = fig.add_subplot()
    for cat in CATEGORIES:
        if pts[cat]:
            ax.scatter(*zip(*pts[cat]), marker=CAT_MARKERS[cat], color=CAT_COLOURS[cat], alpha=.8, s=30,
                       label=f"{cat} ({len(pts[cat])})")
    return plt, fig, ax


def ce_plot(site: Site) -> dict:
    """Coulombic efficiency against cycle number by category."""
    rows = site.q("""SELECT ?x ?cat ?ce ?n { ?x nmb:result ?q ; nmb:ofElectrolyte ?e . ?e nmb:electrolyteCategory ?cat .
        ?q a nmb:CoulombicEfficiency ; nmb:numericValue ?ce . OPTIONAL { ?x nmb:cycleNumber ?n } } ORDER BY ?x""")
    pts, skipped = defaultdict(list), 0
    for r in rows:
        if r.get("n") and int(r["n"]) > 0:
            pts[r["cat"]].append((int(r["n"]), float(r["ce"])))
        else:
            skipped += 1
    plt, fig, ax = _category_scatter(pts)
    ax.set_xscale("log")
    ax.grid(True, which="major", alpha=.3)
    ax.set_xlabel("Cycle number")
    ax.set_ylabel("Coulombic efficiency (%)")
    ax.legend(title="category (points)")
    caption = (f"{sum(map(len, pts.values()))} Coulombic efficiencies with the cycle number they were reached at; "
               f"{skipped} without a cycle number are left out.")
    return {"name": "ce-cycles", "title": "Coulombic efficiency against cycle number",
            "svg": Markup(_svg(plt, fig)), "caption": caption}


# ---------------------------------------------------------------------------------------------- home and writing
def home_context(site: Site, dist: Path) -> dict:
    """Counts, citation and downloads for the home page."""
    from .publish import DESCRIPTION, DUMPS, build_date, dataset_citation, sha256

    def n(text: str) -> int:
        return int(site.q(text)[0]["n"])

    cards = [
        {"name": "electrolytes", "page": "electrolytes.html",
         "n": n(f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x rdfs:label ?l FILTER(STRSTARTS(STR(?x), "{site.id_base}electrolyte/")) }}')},
        {"name": "substances", "page": "substances.html",
         "n": n(f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x rdfs:label ?l FILTER(STRSTARTS(STR(?x), "{site.id_base}substance/")) }}')},
        {"name": "measurements", "page": "plots.html",
         "n": n("SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x nmb:result ?q }")},
        {"name": "SEI species", "page": "sei-species.html",
         "n": n("SELECT (COUNT(DISTINCT ?s) AS ?n) { ?x a nmb:SEIObservation ; nmb:observedInterphase/nmb:hasSpecies ?s }")},
        {"name": "mechanism claims", "page": "mechanisms.html",
         "n": n("SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a nmb:MechanismClaim }")},
        {"name": "cited works", "page": "works.html",
         "n": n("SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x nmb:referenceNumber ?r }")},
    ]
    triples = n("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    downloads = []
    for name, (media, title) in dict(DUMPS, **{"void.ttl": ("text/turtle", "VoID and DCAT description")}).items():
        p = dist / name
        if p.is_file():
            downloads.append({"name": name, "title": title, "media": media, "size": _size(p.stat().st_size),
                              "sha256": sha256(p)[:16] + "\u2026"})
    version = site.info.get("version", "")
    return {"title": "Home", "cards": cards, "counts": {"triples": triples, "inferred": site.info.get("inferred", 0)},
            "description": DESCRIPTION, "downloads": downloads, "date": build_date(),
            "dataset_citation": dataset_citation(version, build_date(), site.base),
            "pages": {"written": site.info.get("pages_written", 0), "all": site.info.get("pages_all", 0)}}


def _size(n: int) -> str:
    """Human-readable byte size."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def entity_path(site: Site, iri: str) -> str:
    """Site path of an entity page (IRI path under id/, or mechanism/<Local>)."""
    if iri.startswith(site.id_base):
        return f"id/{iri[len(site.id_base):]}.html"
    return f"mechanism/{iri[len(NMB):]}.html"


def page_set(site: Site) -> set[str]:
    """Keys of every entity page: 'electrolyte/x', 'substance/x', 'work/x' and 'mechanism/Local'."""
    out = set()
    for kind in ("electrolyte", "substance", "work"):
        for r in site.q(f'SELECT DISTINCT ?x {{ ?x rdfs:label ?l FILTER(STRSTARTS(STR(?x), "{site.id_base}{kind}/")) }}'):
            out.add(r["x"][len(site.id_base):])
    for r in site.q("SELECT DISTINCT ?m { ?x nmb:mechanism ?m }"):
        if r["m"].startswith(NMB):
            out.add(f"mechanism/{r['m'][len(NMB):]}")
    return out


DEFAULT_PAGE_CAP = 5000


def page_cap() -> int:
    """Most entity pages the static site writes (NMBKG_SITE_PAGES; default 5000, 0 = no limit)."""
    return int_setting("NMBKG_SITE_PAGES", DEFAULT_PAGE_CAP)


def capped(pages: set[str], cap: int) -> set[str]:
    """About cap pages, each kind keeping its share (its first keys in sorted order; at least one page per kind,
    so a tiny cap may be passed by a page or two); all pages when cap is 0."""
    if not cap or len(pages) <= cap:
        return set(pages)
    by_kind: dict[str, list[str]] = {}
    for key in sorted(pages):
        by_kind.setdefault(key.split("/", 1)[0], []).append(key)
    out: set[str] = set()
    for keys in by_kind.values():
        out.update(keys[:max(1, cap * len(keys) // len(pages))])
    return out


def _site_with_pages(store, base: str, info: dict | None, preload: bool = True) -> Site:
    """A Site whose page set is chosen (every entity, or the capped share of NMBKG_SITE_PAGES)."""
    site = Site(store, base, info, preload=preload)
    every = page_set(site)
    site.pages = capped(every, page_cap())
    site.info = dict(site.info, pages_written=len(site.pages), pages_all=len(every))
    return site


def _write(out: Path, path: str, html: str) -> None:
    """Write one page of the site."""
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")


def write_site(out: Path, store, dist: Path, base: str = DEFAULT_BASE, info: dict | None = None,
               index: bool = True) -> Path:
    """Write every page of the static site into out/ (the home page last, unless index is False)."""
    site = _site_with_pages(store, base, info)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(STATIC / "style.css", out / "style.css")
    for producer in (electrolyte_pages, substance_pages, work_pages, mechanism_pages):
        for iri, ctx in producer(site):
            _write(out, entity_path(site, iri), site.render("entity.html", entity_path(site, iri), **ctx))
    site.root = ""
    for path, ctx in listings(site).items():
        _write(out, path, site.render("listing.html", path, **ctx))
    plots = [conductivity_plot(site), cycle_life_plot(site), ce_plot(site)]
    (out / "plots").mkdir(exist_ok=True)
    for p in plots:
        (out / "plots" / f"{p['name']}.svg").write_text(str(p["svg"]), encoding="utf-8")
    _write(out, "plots.html", site.render("plots.html", "plots.html", title="Plots", plots=plots))
    if index:
        _write(out, "index.html", site.render("index.html", "index.html", **home_context(site, dist)))
    return out


def write_index(out: Path, store, dist: Path, base: str = DEFAULT_BASE, info: dict | None = None) -> Path:
    """The home page alone: counts, citation and the downloads with their sizes and checksums."""
    site = _site_with_pages(store, base, info, preload=False)
    out.mkdir(parents=True, exist_ok=True)
    _write(out, "index.html", site.render("index.html", "index.html", **home_context(site, dist)))
    return out / "index.html"


def write_pages_job(out: str, dist: str, base: str, info: dict) -> str:
    """Every page but the home page, from the release files in dist (run in a child process by the export)."""
    from .publish import release_store

    write_site(Path(out), release_store(Path(dist)), Path(dist), base, info, index=False)
    return out


def regenerate(dist: Path, base: str = DEFAULT_BASE) -> Path:
    """Rebuild dist/site/ from an existing release (for `nmbkg site`)."""
    from .publish import release_store

    info_file = dist / "build-info.json"
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    tmp = Path(tempfile.mkdtemp(prefix=".site-", dir=dist))
    try:
        write_site(tmp, release_store(dist), dist, base, info)
        old = dist / "site"
        if old.exists():
            shutil.rmtree(old)
        tmp.rename(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dist / "site"


def cmd_site(args) -> int:
    """`nmbkg site`: rebuild the static site of a release."""
    from .config import Project

    dist = Path(args.data) if args.data else Project.discover(getattr(args, "root", None)).root / "dist"
    if not (dist / "nmbkg.nt").is_file():
        raise FileNotFoundError(f"no release in {dist}: run `nmbkg build` first")
    out = regenerate(dist)
    print(f"site written to {out} ({len(list(out.rglob('*.html')))} pages)")
    return 0


def add_parser(sub) -> None:
    """The `site` subcommand."""
    p = sub.add_parser("site", help="rebuild the static site (dist/site/) of an existing release")
    p.add_argument("--data", help="release folder (default: dist/)")
    p.set_defaults(func=cmd_site)


# ---------------------------------------------------------------------------------------------- server pages
def render_resource(store, base: str, iri: str, triples: list, incoming: list[tuple[str, str]], path: str) -> str:
    """HTML page of a resource that has no site page (served by `nmbkg serve` at /<path>)."""
    site = Site(store, base, preload=False)
    site.root = "../" * path.count("/")

    def link(term) -> Markup:
        value = term.value if hasattr(term, "value") else str(term)
        if type(term).__name__ == "Literal":
            lang = f"@{term.language}" if term.language else ""
            return Markup("{}<span class=\"muted\">{}</span>").format(value, lang)
        if value.startswith(base):
            return Markup('<a href="{}">{}</a>').format(site.root + value[len(base):], site.label(value))
        if value.startswith("http"):
            return Markup('<a href="{}">{}</a>').format(value, site.label(value))
        return Markup("{}").format(value)

    subject = [t for t in triples if t.subject.value == iri]
    rows = sorted(((link(t.predicate), link(t.object)) for t in subject), key=lambda r: (str(r[0]), str(r[1])))
    inc = [(link(_Named(s)), link(_Named(p))) for s, p in incoming]
    name = path.rsplit("/", 1)[-1]
    alternates = [("Turtle", ".ttl"), ("JSON-LD", ".jsonld"), ("N-Triples", ".nt"), ("RDF/XML", ".rdf")]
    return site.render("resource.html", path, title=site.label(iri), iri=iri, rows=rows, incoming=inc,
                       alternates=alternates, page_name=name)


class _Named:
    """A bare IRI with .value, for link()."""

    def __init__(self, value: str):
        self.value = value
