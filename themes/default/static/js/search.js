/* サイト内検索: searches window.SITEGEN_SEARCH (assets/search-index.js, written by sitegen build).
   Folding matches sitegen/web/search.py: NFKC, lower case, katakana -> hiragana, no spaces. Works from file://. */
(function () {
  "use strict";
  var index = window.SITEGEN_SEARCH || [];
  var form = document.querySelector("[data-search-form]");
  var input = document.getElementById("search-q");
  var list = document.querySelector("[data-search-results]");
  var status = document.querySelector("[data-search-status]");
  if (!form || !input || !list) return;

  function fold(text) {
    text = (text || "").normalize("NFKC").toLowerCase();
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      out += c >= 0x30a1 && c <= 0x30f6 ? String.fromCharCode(c - 0x60) : text.charAt(i);
    }
    return out;
  }

  function search(query) {
    var terms = fold(query).split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var hits = [];
    index.forEach(function (e, n) {
      for (var i = 0; i < terms.length; i++) if (e.x.indexOf(terms[i]) < 0) return;
      var title = fold(e.t).replace(/\s+/g, "");
      var score = terms.reduce(function (s, t) { return s + (title.indexOf(t) >= 0 ? 10 : 0) + (title.indexOf(t) === 0 ? 5 : 0); }, 0);
      hits.push({ e: e, score: score, n: n });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.n - b.n; });
    return hits.map(function (h) { return h.e; });
  }

  function show(query) {
    list.textContent = "";
    var found = search(query);
    found.slice(0, 50).forEach(function (e) {
      var li = document.createElement("li");
      li.className = "search-result";
      var kind = document.createElement("span");
      kind.className = "search-kind";
      kind.textContent = e.k;
      var a = document.createElement("a");
      a.href = e.u;
      a.textContent = e.t;
      var p = document.createElement("p");
      p.textContent = e.s;
      li.appendChild(kind);
      li.appendChild(a);
      li.appendChild(p);
      list.appendChild(li);
    });
    if (status) {
      status.textContent = !query.trim() ? "" : found.length ? "「" + query + "」の検索結果：" + found.length + "件" +
        (found.length > 50 ? "（上位50件を表示）" : "") : "「" + query + "」に一致するページはありません。ことばを短くするか、ひらがなでもお試しください。";
    }
  }

  var params = new URLSearchParams(window.location.search);
  var q = params.get("q") || "";
  input.value = q;
  show(q);
  input.addEventListener("input", function () { show(input.value); });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    show(input.value);
    if (window.history && window.history.replaceState && location.protocol !== "file:") {
      window.history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    }
  });
})();
