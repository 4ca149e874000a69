// "Select all on this page" for the bulk actions of the question list.
(function () {
  var all = document.getElementById("pick-all");
  if (!all) return;
  all.hidden = false;
  all.parentElement.hidden = false;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
  });
})();
