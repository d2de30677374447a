/* 外来担当医表 on phones (by day): start the list at today in Japan, and mark today.
   Progressive enhancement: without JavaScript the days read Monday first, as printed. */
(function () {
  "use strict";
  var lists = document.querySelectorAll(".schedule-days-list");
  if (!lists.length) return;
  var names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var today;
  try {
    today = names.indexOf(new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", weekday: "short" }).format(new Date()));
  } catch (e) {
    today = new Date().getDay();
  }
  if (today < 0) return;
  var order = function (dow) { return (dow - today + 7) % 7; }; // 0 = today, 1 = tomorrow, ...
  Array.prototype.forEach.call(lists, function (list) {
    var days = Array.prototype.slice.call(list.querySelectorAll("[data-dow]"));
    if (!days.length) return;
    days.sort(function (a, b) { return order(+a.getAttribute("data-dow")) - order(+b.getAttribute("data-dow")); });
    days.forEach(function (day) { list.appendChild(day); });
    var first = days[0];
    if (+first.getAttribute("data-dow") === today) {
      var mark = document.createElement("span");
      mark.className = "today-mark";
      mark.textContent = "今日";
      first.querySelector("dt").appendChild(mark);
      first.classList.add("is-today");
    }
  });
})();
