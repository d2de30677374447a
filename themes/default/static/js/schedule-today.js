/* 外来担当医表 on phones (by day): start the list at today in Japan, and mark today; on other pages (症状から探す)
   mark the outpatient days that are today ([data-today-dow]).
   Progressive enhancement: without JavaScript the days read Monday first, as printed, and nothing is marked. */
(function () {
  "use strict";
  var lists = document.querySelectorAll(".schedule-days-list");
  var slots = document.querySelectorAll("[data-today-dow]");
  if (!lists.length && !slots.length) return;
  var names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var today;
  try {
    today = names.indexOf(new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", weekday: "short" }).format(new Date()));
  } catch (e) {
    today = new Date().getDay();
  }
  if (today < 0) return;
  Array.prototype.forEach.call(slots, function (slot) {
    if (+slot.getAttribute("data-today-dow") !== today) return;
    var mark = document.createElement("strong");
    mark.className = "today-tag";
    mark.textContent = "（今日）";
    slot.appendChild(mark);
    slot.classList.add("is-today");
  });
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
