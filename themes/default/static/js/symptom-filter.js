/* 症状から探す: filter the symptoms as you type (full/half width and katakana/hiragana alike). */
(function () {
  "use strict";
  var box = document.querySelector("[data-symptom-filter]");
  if (!box) return;
  var input = box.querySelector("input");
  var status = box.querySelector("[data-symptom-status]");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-symptom]"));
  function fold(text) {
    text = (text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, "");
    return text.replace(/[\u30a1-\u30f6]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0x60); });
  }
  var keys = items.map(function (el) { return fold(el.getAttribute("data-symptom") + el.textContent); });
  box.hidden = false;
  input.addEventListener("input", function () {
    var q = fold(input.value), shown = 0;
    items.forEach(function (el, i) { el.hidden = q !== "" && keys[i].indexOf(q) < 0; if (!el.hidden) shown++; });
    if (status) status.textContent = shown + "件の症状を表示しています";
  });
})();
