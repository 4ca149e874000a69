// Progressive enhancement of the round form: add/remove blueprint rows and show the question total.
// Labels come from data attributes so they are translated with the page.
// The form works without this script (it always renders spare blank rows).
(function () {
  "use strict";
  var rows = document.getElementById("blueprint-rows");
  if (!rows) return;
  var total = document.getElementById("blueprint-total");
  var MAX_ROWS = 30;

  function nextIndex() {
    var max = -1;
    rows.querySelectorAll("[name^='blueprint-']").forEach(function (el) {
      var m = el.name.match(/^blueprint-(\d+)-/);
      if (m) max = Math.max(max, parseInt(m[1], 10));
    });
    return max + 1;
  }

  function renumber() {
    rows.querySelectorAll("[data-row] > legend").forEach(function (legend, i) {
      legend.textContent = legend.textContent.replace(/\d+\s*$/, String(i + 1));
    });
    var sum = 0;
    rows.querySelectorAll("input[name$='-count']").forEach(function (input) {
      var n = parseInt(input.value, 10);
      if (n > 0) sum += n;
    });
    if (total) total.textContent = rows.dataset.totalLabel + " " + sum;
    showAvailable();
  }

  // Approved questions available to each rule (embedded by the page: category incl. subcategories x difficulty),
  // and a warning as soon as the rules of one category and difficulty ask for more than the bank holds.
  var countsNode = document.getElementById("bank-counts");
  var counts = countsNode ? JSON.parse(countsNode.textContent) : null;

  function showAvailable() {
    if (!counts) return;
    var need = {};
    var list = [];
    rows.querySelectorAll("[data-row]").forEach(function (row) {
      var category = row.querySelector("select[name$='-category_id']");
      var difficulty = row.querySelector("select[name$='-difficulty']");
      var count = row.querySelector("input[name$='-count']");
      if (!category || !difficulty || !count) return;
      var key = (category.value || "0") + "|" + difficulty.value;
      var n = parseInt(count.value, 10);
      if (n > 0) need[key] = (need[key] || 0) + n;
      list.push({ row: row, key: key, category: category.value || "0", difficulty: difficulty.value, count: count });
    });
    list.forEach(function (item) {
      var available = (counts[item.category] || {})[item.difficulty] || 0;
      var hint = item.row.querySelector(".blueprint-available");
      if (!hint) {
        hint = document.createElement("p");
        hint.className = "hint blueprint-available";
        hint.setAttribute("aria-live", "polite");
      }
      item.row.appendChild(hint); // last in the row (a copied row gets its remove button after it): a full-width line
      var short = (need[item.key] || 0) > available;
      hint.textContent = short
        ? rows.dataset.shortLabel.replace("{need}", need[item.key]).replace("{n}", available)
        : rows.dataset.availableLabel.replace("{n}", available);
      hint.classList.toggle("blueprint-short", short);
      hint.dataset.available = String(available);
    });
  }

  function addRemoveButton(row) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link-button row-remove";
    button.textContent = rows.dataset.removeLabel;
    button.addEventListener("click", function () {
      if (rows.querySelectorAll("[data-row]").length > 1) {
        row.remove();
      } else {
        row.querySelector("input[name$='-count']").value = "";
      }
      renumber();
    });
    row.appendChild(button);
  }

  rows.querySelectorAll("[data-row]").forEach(addRemoveButton);

  var add = document.createElement("button");
  add.type = "button";
  add.className = "button button-secondary";
  add.id = "blueprint-add";
  add.textContent = rows.dataset.addLabel;
  add.addEventListener("click", function () {
    var all = rows.querySelectorAll("[data-row]");
    if (all.length >= MAX_ROWS) return;
    var template = all[all.length - 1];
    var copy = template.cloneNode(true);
    var index = nextIndex();
    copy.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/blueprint-\d+-/g, "blueprint-" + index + "-"));
      });
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    copy.querySelectorAll("input").forEach(function (el) { el.value = ""; el.setAttribute("aria-invalid", "false"); });
    copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    copy.querySelectorAll(".row-remove").forEach(function (el) { el.remove(); });
    addRemoveButton(copy);
    rows.appendChild(copy);
    renumber();
    copy.querySelector("select").focus();
  });
  rows.parentNode.insertBefore(add, total);
  rows.addEventListener("input", renumber);
  rows.addEventListener("change", renumber);
  renumber();
})();

// The (non-blocking) warning that a skewed bank shows its key by position when options are not shuffled.
(function () {
  "use strict";
  var warning = document.querySelector("[data-shuffle-warning]");
  var box = document.getElementById("shuffle_options");
  if (!warning || !box) return;
  box.addEventListener("change", function () { warning.hidden = box.checked; });
})();
