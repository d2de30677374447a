// sitegen serve: live reload and the error overlay. Added only to pages served by
// `sitegen serve`; never part of build/.
(function () {
  "use strict";
  var me = document.currentScript;
  var key = me.getAttribute("data-key");
  var version = me.getAttribute("data-version");
  var overlay = null;

  function showErrors(errors) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "sitegen-overlay";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
        "background:rgba(20,20,20,.94);color:#fff;font:16px/1.6 system-ui,sans-serif";
      document.documentElement.appendChild(overlay);
    }
    overlay.textContent = "";
    var h = document.createElement("h2");
    h.style.cssText = "margin:0 0 1rem;color:#ffb4a8;font-size:1.3rem";
    h.textContent = "内容に誤りがあります（" + errors.length + "件）。直して保存すると、この表示は消えます。";
    overlay.appendChild(h);
    var list = document.createElement("ul");
    list.style.cssText = "margin:0;padding:0;list-style:none;font-family:ui-monospace,monospace;white-space:pre-wrap";
    errors.forEach(function (line) {
      var li = document.createElement("li");
      li.style.cssText = "padding:.4rem 0;border-bottom:1px solid #555";
      li.textContent = line;  // text, never HTML
      list.appendChild(li);
    });
    overlay.appendChild(list);
  }

  // The page's new HTML replaces its body in place: no stylesheets, scripts or pictures loaded again, and the
  // reader stays where they were on the page. A changed <head> (or any failure) reloads the page instead.
  function heads(doc) {
    return Array.prototype.map.call(doc.head.children, function (e) {
      return e.tagName === "TITLE" ? "" : e.outerHTML;
    }).join("");
  }

  function swap() {
    fetch(location.href, {cache: "no-store", credentials: "same-origin"}).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("text/html") < 0) { throw new Error("not a page"); }
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      if (heads(doc) !== heads(document)) { throw new Error("head changed"); }
      var body = document.adoptNode(doc.body);
      // scripts parsed by DOMParser never run: each is replaced by a fresh copy that does (this one included,
      // which connects again with the new version)
      Array.prototype.forEach.call(body.querySelectorAll("script"), function (old) {
        var fresh = document.createElement("script");
        Array.prototype.forEach.call(old.attributes, function (a) { fresh.setAttribute(a.name, a.value); });
        fresh.text = old.text;
        old.parentNode.replaceChild(fresh, old);
      });
      var x = window.scrollX, y = window.scrollY;
      if (overlay) { overlay.remove(); overlay = null; }
      document.title = doc.title;
      document.body.replaceWith(body);
      window.scrollTo(x, y);
    }).catch(function () { location.reload(); });
  }

  function connect() {
    var url = "/__sitegen/events?key=" + encodeURIComponent(key) + "&v=" + encodeURIComponent(version);
    var source = new EventSource(url);
    source.onmessage = function (event) {
      var state = JSON.parse(event.data);
      if (state.errors.length) {
        showErrors(state.errors);
      } else if (overlay || state.stale) {
        source.close();
        if (state.assets || key.indexOf(":") >= 0) {
          location.reload();  // a stylesheet or picture changed, or one of sitegen's own pages
        } else {
          swap();
        }
      }
    };
    // EventSource reconnects by itself when the server restarts.
  }
  connect();
})();
