/* Search over the site's index for this language (search/<lang>.js sets EMP_SEARCH): runs in
   the page, offline, from file:// as from a web server. Every word must match, ignoring case and
   accents (and Arabic short vowels). */
(function () {
  "use strict";
  var fold = function (text) {
    return String(text).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  };
  var entries = (window.EMP_SEARCH || []).map(function (e) {
    return { entry: e, text: fold([e.title, e.kind, e.text].join(" ")) };
  });
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  var box = document.getElementById("q");
  if (box) { box.value = query; }
  var list = document.getElementById("search-results");
  var count = document.getElementById("search-count");
  if (!query || !list) { return; }
  var words = fold(query).split(/\s+/).filter(Boolean);
  var found = entries.filter(function (e) {
    return words.every(function (w) { return e.text.indexOf(w) !== -1; });
  }).map(function (e) {
    var title = fold(e.entry.title);
    var score = words.reduce(function (s, w) { return s + (title.indexOf(w) !== -1 ? 2 : 1); }, 0);
    return { entry: e.entry, score: score };
  }).sort(function (a, b) { return b.score - a.score; });
  found.forEach(function (f) {
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = f.entry.url;
    link.textContent = f.entry.title;
    var kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = " · " + f.entry.kind;
    item.appendChild(link);
    item.appendChild(kind);
    list.appendChild(item);
  });
  count.textContent = found.length
    ? count.getAttribute("data-some").replace("{count}", String(found.length))
    : count.getAttribute("data-none");
}());
