// Confirmation dialogs for the judges' irreversible-looking decisions (disqualify, reinstate, publish).
// A form with data-confirm="DIALOG_ID" opens that <dialog> instead of submitting; "confirm" sets the form's
// hidden `confirmed` field to 1 and submits. Without this script the server asks the same question as a page.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    var dialog = document.getElementById(form.getAttribute("data-confirm"));
    var confirmed = form.querySelector("input[name$='confirmed']");
    if (!dialog || !confirmed || typeof dialog.showModal !== "function") return;
    form.addEventListener("submit", function (event) {
      if (confirmed.value === "1") return;
      var reason = form.querySelector("textarea[name$='reason']");
      // An empty or too short reason goes to the server, which says what is missing next to the field.
      if (reason && reason.value.trim().length < 5) return;
      event.preventDefault();
      dialog.querySelectorAll("[data-confirm-copy]").forEach(function (target) {
        var source = form.querySelector("[name$='" + target.getAttribute("data-confirm-copy") + "']");
        target.textContent = source ? source.value.trim() : "";
      });
      dialog.showModal();
    });
    dialog.querySelector("[data-confirm-ok]").addEventListener("click", function () {
      confirmed.value = "1";
      dialog.close();
      // The form's own button is named "submit" (WTForms), which hides form.submit(): call the prototype's.
      HTMLFormElement.prototype.submit.call(form);
    });
    dialog.querySelector("[data-confirm-cancel]").addEventListener("click", function () {
      dialog.close();
    });
  });
})();
