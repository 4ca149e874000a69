// The question form's options table: shows the filled rows (at least two), "Thêm phương án" reveals the next one,
// "Xóa" removes a row and moves the ones below it up. Without this script all six rows show; either way the
// server checks that a question has 2 to 6 options and a correct one.
(function () {
  "use strict";
  var table = document.getElementById("option-rows");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("[data-option-row]"));
  var min = parseInt(table.dataset.min, 10) || 2;
  var text = function (row) { return row.querySelector(".bank-option-text"); };
  var mark = function (row) { return row.querySelector("input[type=checkbox]"); };

  var add = document.createElement("button");
  add.type = "button";
  add.className = "button button-secondary button-small";
  add.id = "option-add";
  add.textContent = table.dataset.addLabel;
  table.parentNode.insertBefore(add, table.nextSibling);

  function visibleCount() {
    return rows.filter(function (row) { return !row.hidden; }).length;
  }

  function refresh() {
    var shown = visibleCount();
    rows.forEach(function (row) {
      row.querySelector(".bank-option-remove").hidden = row.hidden || shown <= min;
    });
    add.hidden = shown >= rows.length;
  }

  var last = -1;
  rows.forEach(function (row, i) {
    if (text(row).value.trim() || mark(row).checked) last = i;
  });
  var keep = Math.max(last + 1, min);
  rows.forEach(function (row, i) { row.hidden = i >= keep; });

  add.addEventListener("click", function () {
    var next = rows.filter(function (row) { return row.hidden; })[0];
    if (!next) return;
    next.hidden = false;
    refresh();
    text(next).focus();
  });

  rows.forEach(function (row, i) {
    row.querySelector(".bank-option-remove").addEventListener("click", function () {
      var shown = visibleCount();
      if (shown <= min) return;
      for (var j = i; j < shown - 1; j++) {
        text(rows[j]).value = text(rows[j + 1]).value;
        mark(rows[j]).checked = mark(rows[j + 1]).checked;
      }
      var lastRow = rows[shown - 1];
      text(lastRow).value = "";
      mark(lastRow).checked = false;
      lastRow.hidden = true;
      refresh();
      text(rows[Math.min(i, shown - 2)]).focus();
    });
  });
  refresh();
})();
