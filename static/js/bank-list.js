// The question list: "select all on this page", and the bulk-action toolbar shown only while questions are
// selected. Without this script the toolbar is always there (the form posts the same either way).
(function () {
  var all = document.getElementById("pick-all");
  var toolbar = document.getElementById("bulk-toolbar");
  if (!all || !toolbar) return;
  var counter = document.getElementById("bulk-selected");
  all.parentElement.hidden = false;
  var boxes = function () { return document.querySelectorAll('#bank-list input[name="ids"]'); };

  function refresh() {
    var picked = document.querySelectorAll('#bank-list input[name="ids"]:checked').length;
    toolbar.hidden = picked === 0;
    if (counter) counter.textContent = picked ? "(" + picked + " " + counter.dataset.label + ")" : "";
    all.checked = picked > 0 && picked === boxes().length;
  }

  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
    refresh();
  });
  document.getElementById("bank-list").addEventListener("change", refresh);
  refresh();
})();
