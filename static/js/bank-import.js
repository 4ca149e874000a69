// Upload with a progress bar: the import page works without it (plain form post).
(function () {
  var form = document.getElementById("import-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var script = document.currentScript;
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-progress-bar");
  var label = document.getElementById("import-progress-label");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    box.hidden = false;
    bar.value = 0;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener("load", function () {
      // The server now parses and validates every question: no byte count to show.
      bar.removeAttribute("value");
      label.textContent = script.dataset.checking;
    });
    xhr.addEventListener("load", function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      box.hidden = true;
      alert(script.dataset.failed);
    });
    xhr.open("POST", form.action || window.location.href);
    xhr.send(new FormData(form));
  });
})();
