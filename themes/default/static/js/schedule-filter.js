/* 外来担当医表: show one department's table at a time.
   Progressive enhancement: without JavaScript the filter stays hidden and every table shows. */
(function () {
  "use strict";
  var box = document.querySelector("[data-schedule-filter]");
  if (!box) return;
  var select = box.querySelector("select");
  var status = box.querySelector("[data-schedule-status]");
  var depts = Array.prototype.slice.call(document.querySelectorAll("[data-department]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-schedule-group]"));

  function apply(value) {
    depts.forEach(function (el) {
      el.hidden = value !== "" && el.getAttribute("data-department") !== value;
    });
    groups.forEach(function (g) {
      g.hidden = !g.querySelector("[data-department]:not([hidden])");
    });
    if (status) {
      var label = select.options[select.selectedIndex].text;
      status.textContent = value === "" ? "すべての診療科を表示しています" : label + "を表示しています";
    }
  }

  select.addEventListener("change", function () {
    apply(select.value);
    if (window.history && window.history.replaceState && location.protocol !== "file:") {
      window.history.replaceState(null, "", select.value ? "#dept-" + select.value : location.pathname);
    }
  });

  /* a link like schedule.html#dept-cardiology preselects that department */
  var hash = decodeURIComponent(location.hash || "").replace(/^#dept-/, "");
  if (hash && depts.some(function (el) { return el.getAttribute("data-department") === hash; })) {
    select.value = hash;
    apply(hash);
  }
  box.hidden = false;
})();
