// nmbkg query page: YASGUI pointed at this server's endpoint, stored questions as examples,
// and a notice for truncated results and for error answers (400, 403, 413, 429, 503).
(function () {
  "use strict";
  var endpoint = new URL("sparql", window.location.href).href;
  var apiUrl = new URL("api/queries", window.location.href).href;
  var notice = document.getElementById("notice");
  document.getElementById("endpoint").textContent = endpoint;

  function show(kind, text) {
    notice.hidden = !text;
    notice.className = kind || "";
    notice.textContent = text || "";
  }

  // Watch the answers of the endpoint (YASGUI uses fetch) to explain limits to the user.
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : input.url;
    var isQuery = url && url.indexOf(endpoint) === 0;
    if (isQuery) { show("", ""); }
    return realFetch(input, init).then(function (resp) {
      if (!isQuery) { return resp; }
      if (resp.headers.get("X-NMBKG-Truncated") === "true") {
        show("warn", "Results were cut to the first " + resp.headers.get("X-NMBKG-Row-Cap") +
          " rows: narrow the query or add LIMIT/OFFSET to page through them.");
      } else if (!resp.ok) {
        resp.clone().text().then(function (t) {
          var retry = resp.headers.get("Retry-After");
          show("error", t.trim() + (retry ? " (retry after " + retry + " s)" : ""));
        });
      }
      return resp;
    }, function (err) {
      if (isQuery) { show("error", "The server did not answer: " + err); }
      throw err;
    });
  };

  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];
  Yasgui.Yasqe.defaults.prefixCcApi = null;
  Yasgui.Yasr.defaults.prefixes = {
    id: "https://w3id.org/nmbkg/id/", nmb: "https://w3id.org/nmbkg/ontology#",
    xsd: "http://www.w3.org/2001/XMLSchema#", rdfs: "http://www.w3.org/2000/01/rdf-schema#",
    unit: "http://qudt.org/vocab/unit/", prov: "http://www.w3.org/ns/prov#"
  };
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: "nmbkg-yasgui",
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: ["endpoint"] },
  });
  window.nmbkgYasgui = yasgui;

  function openExample(q, newTab) {
    var tab = newTab ? yasgui.addTab(true, { name: q.name }) : yasgui.getTab();
    if (!newTab) { tab.setName(q.name); }
    tab.setEndpoint(endpoint);
    tab.setQuery(q.example);
    document.getElementById("example-summary").textContent = q.summary;
    return tab;
  }

  realFetch(apiUrl).then(function (r) { return r.json(); }).then(function (data) {
    var select = document.getElementById("example-select");
    select.innerHTML = "";
    data.queries.forEach(function (q, i) {
      var opt = document.createElement("option");
      opt.value = String(i);
      opt.textContent = q.name;
      opt.title = q.summary;
      select.appendChild(opt);
    });
    window.nmbkgExamples = data.queries;
    select.addEventListener("change", function () {
      var q = data.queries[Number(select.value)];
      if (q) { openExample(q, false); }
    });
    document.getElementById("example-open").addEventListener("click", function () {
      var q = data.queries[Number(select.value)];
      if (q) { openExample(q, true); }
    });
    var tab = yasgui.getTab();
    var current = tab && tab.getQuery ? tab.getQuery() : "";
    if (data.queries.length && (!current || current.indexOf("SELECT * WHERE") !== -1)) {
      openExample(data.queries[0], false);
    }
    document.body.setAttribute("data-examples-ready", "true");
  }).catch(function (err) { show("error", "Could not load the stored queries: " + err); });
})();
