/* "Bắt đầu thi" / "Thi lượt tiếp theo": the link leads to a confirmation page; with script it opens the
   <dialog> next to it instead (same facts, same confirming form). Focus returns to the link on close. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-start-dialog]"), function (link) {
    var dialog = document.getElementById(link.dataset.startDialog);
    if (!dialog || typeof dialog.showModal !== "function") return;  // old browser: the confirmation page
    link.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelector("[data-dialog-close]").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { link.focus(); });
  });
})();
