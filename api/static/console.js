// Keyboard shortcuts and small conveniences; everything else is htmx. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-list] [data-row]"));
  }
  function select(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.setAttribute("aria-selected", i === index ? "true" : "false"); });
    var link = all[index].querySelector("[data-open]");
    if (link) link.focus();
  }
  function selectedIndex() {
    return rows().findIndex(function (row) { return row.getAttribute("aria-selected") === "true"; });
  }
  function dialog(show) {
    var box = document.getElementById("shortcuts");
    if (!box) return;
    box.hidden = !show;
    if (show) box.querySelector("button").focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      dialog(false);
      // Leaving the search box by Escape gives j/k/Enter back to the list.
      if (event.target.matches("[data-shortcut='/']")) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    if (event.key === "/") {
      var search = document.querySelector("[data-shortcut='/']");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "j") {
      select(selectedIndex() + 1);
    } else if (event.key === "k") {
      select(selectedIndex() < 0 ? 0 : selectedIndex() - 1);
    } else if (event.key === "Enter") {
      var index = selectedIndex();
      var link = index >= 0 ? rows()[index].querySelector("[data-open]") : null;
      if (link && document.activeElement !== link) { event.preventDefault(); link.click(); }
    } else if (event.key === "?") {
      dialog(true);
    }
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    if (close) dialog(false);
    var clear = event.target.closest("[data-clear]");
    if (clear) {
      var panel = document.querySelector(clear.getAttribute("data-clear"));
      if (panel) panel.innerHTML = "";
    }
  });
  // On a phone the filters fold away until asked for, unless some are set.
  if (window.matchMedia("(max-width: 720px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-fold-on-phone]"), function (box) { box.open = false; });
  }
  // A live refresh of a list keeps the cases someone has ticked for a bulk action.
  var ticked = [];
  document.addEventListener("htmx:beforeSwap", function () {
    ticked = Array.prototype.map.call(document.querySelectorAll("input[name=case_ids]:checked"), function (box) { return box.value; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    ticked.forEach(function (value) {
      var box = document.querySelector("input[name=case_ids][value='" + CSS.escape(value) + "']");
      if (box) box.checked = true;
    });
  });
  // Too many changes missed to catch up with: the page starts afresh.
  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.target.hasAttribute("data-reload")) window.location.reload();
  });
  // A form swapped in by htmx gets the focus on its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var first = event.detail.target.querySelector("form input:not([type=hidden]), form textarea, form select");
    if (first) first.focus();
  });
})();
