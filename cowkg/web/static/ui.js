// The query UI: YASGUI (served from /static/vendor/, installed from npm) on this endpoint, with the
// project's prefixes and example queries. Autocompleters that call remote services are disabled.
(function () {
  const cfg = JSON.parse(document.getElementById("cowkg-config").textContent);
  const prefixLines = Object.entries(cfg.prefixes).map(function (kv) { return "PREFIX " + kv[0] + ": <" + kv[1] + ">"; });
  // The first competency query (the server picks it): the first example by name may be refused (SERVICE).
  const starterExample = cfg.examples.find(function (e) { return e.name === cfg.starter; });
  const starter = cfg.query || (starterExample ? starterExample.query :
    "SELECT ?s ?label WHERE {\n  ?s rdfs:label ?label\n} LIMIT 20");
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: cfg.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: cfg.endpoint }]; } },
    persistenceId: null,
    yasqe: { value: starter, autocompleters: ["variables"] },
  });
  const tab = yasgui.getTab();
  const yasqe = tab.getYasqe();
  // The server predeclares the project prefixes; declaring the ones a query uses keeps the
  // editor's syntax check quiet and the query portable to other endpoints.
  function declareUsed() {
    const text = yasqe.getValue();
    const declared = yasqe.getPrefixesFromQuery();
    const used = {};
    for (const name of Object.keys(cfg.prefixes)) {
      if (!(name in declared) && new RegExp("(^|[^\\w:?$])" + name + ":").test(text)) used[name] = cfg.prefixes[name];
    }
    if (Object.keys(used).length) yasqe.addPrefixes(used);
  }
  function load(query) {
    yasqe.setValue(query);
    declareUsed();
  }
  declareUsed();
  if (cfg.query) load(cfg.query);
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      const ex = cfg.examples.find(function (e) { return e.name === button.dataset.name; });
      if (ex) { load(ex.query); yasqe.query(); }
    });
  });
  // Dataset IRIs in the results open their page on this server, not the public w3id.org redirect.
  const idSpace = cfg.prefixes.cowr;
  document.getElementById("yasgui").addEventListener("click", function (event) {
    const link = event.target.closest("a[href]");
    if (link && link.href.startsWith(idSpace) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopPropagation();
      window.location.href = "/page/" + link.href.slice(idSpace.length);
    }
  }, true);
  // Inference per request: the checkbox switches the endpoint between ?infer=false and ?infer=true.
  const infer = document.getElementById("infer");
  function setInfer() {
    const endpoint = cfg.endpoint + "?infer=" + (infer.checked ? "true" : "false");
    yasgui.getTab().setEndpoint(endpoint);
  }
  if (infer) { infer.addEventListener("change", setInfer); setInfer(); }
  window.cowkgYasgui = yasgui;
  window.cowkgPrefixLines = prefixLines;
})();
