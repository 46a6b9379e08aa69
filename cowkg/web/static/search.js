// Label search box on every page: suggestions from /api/search as you type; Enter opens /search.
(function () {
  const box = document.getElementById("search-box");
  const list = document.getElementById("search-suggestions");
  if (!box || !list) return;
  let timer = null, seq = 0;
  function show(results) {
    list.innerHTML = "";
    for (const r of results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = r.page || "/page?iri=" + encodeURIComponent(r.iri);
      a.textContent = r.label;
      if (r.matched !== r.label) {
        const small = document.createElement("small");
        small.textContent = r.matched;
        a.appendChild(small);
      }
      li.appendChild(a);
      list.appendChild(li);
    }
    list.hidden = results.length === 0;
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    const q = box.value.trim();
    if (!q) { show([]); return; }
    timer = setTimeout(function () {
      const mine = ++seq;
      fetch("/api/search?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === seq) show(data.results); })
        .catch(function () { show([]); });
    }, 120);
  });
  document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== box) list.hidden = true; });
})();
