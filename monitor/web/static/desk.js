// Keyboard triage on the change log (j/k move, o open, c confirm, d dismiss, u unread,
// x select). The page works without it: every action is also a plain form button.
(function () {
  "use strict";
  var current = -1;
  var currentId = null; // the row's id: htmx replaces the row element after an action
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.change")); }
  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("current"); });
    all[index].classList.add("current");
    all[index].scrollIntoView({ block: "nearest" });
    current = index;
    currentId = all[index].getAttribute("data-id");
  }
  function currentRow() {
    var row = currentId && document.getElementById("change-" + currentId);
    if (!row) { return null; }
    row.classList.add("current");
    return row;
  }
  function press(selector) {
    var row = currentRow();
    var button = row && row.querySelector(selector);
    if (!button) { return; }
    // A row htmx has just swapped in may not be wired yet: wire it now, or the click
    // would submit the whole form (it still works, but reloads the page).
    if (window.htmx) { window.htmx.process(row); }
    button.click();
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
    if (typing) {
      if (event.key === "Enter" && target.classList.contains("reason")) {
        event.preventDefault();
        var row = target.closest("tr.change");
        var button = row && row.querySelector(".act-dismiss");
        if (button) {
          if (window.htmx) { window.htmx.process(row); }
          button.click();
        }
      } else if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": {
        var row = currentRow();
        var link = row && row.querySelector("a.open");
        if (link) { window.location.href = link.getAttribute("href"); }
        break;
      }
      case "c": press(".act-confirm"); break;
      case "u": press(".act-unread"); break;
      case "x": {
        var box = currentRow() && currentRow().querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; }
        break;
      }
      case "d": {
        var row2 = currentRow();
        if (!row2) { break; }
        var details = row2.querySelector("details.dismiss");
        if (details) { details.open = true; details.querySelector("input.reason").focus(); event.preventDefault(); }
        break;
      }
      default: return;
    }
  });
  // A row swapped in by htmx after an action keeps the keyboard mark.
  document.addEventListener("htmx:load", function () { currentRow(); });
}());
