/* The live-final set-up: ticking a question in the search results appends its id to the ordered list. */
(function () {
  "use strict";
  var field = document.getElementById("question_ids");
  if (!field) return;
  function ids() { return field.value.split(/[\s,]+/).filter(Boolean); }
  Array.prototype.forEach.call(document.querySelectorAll(".live-pick-box"), function (box) {
    box.checked = ids().indexOf(box.value) >= 0;
    box.addEventListener("change", function () {
      var list = ids().filter(function (id) { return id !== box.value; });
      if (box.checked) list.push(box.value);
      field.value = list.join(", ");
    });
  });
})();
