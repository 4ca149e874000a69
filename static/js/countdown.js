/* Countdown to a round's opening or closing, measured against the server's clock at page render; the page reloads at 0. */
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-countdown-to]");
  if (!nodes.length) return;
  var offset = Number(nodes[0].dataset.serverMs) - Date.now();
  function tick() {
    Array.prototype.forEach.call(nodes, function (n) {
      var left = Math.max(0, Number(n.dataset.countdownTo) - (Date.now() + offset));
      if (left === 0) { window.location.reload(); return; }
      var s = Math.floor(left / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
          m = Math.floor(s % 3600 / 60), sec = s % 60;
      n.querySelector(".countdown-value").textContent =
        (d ? (n.dataset.days || "{n} ngày").replace("{n}", d) + " " : "") + ("0" + h).slice(-2) + ":" + ("0" + m).slice(-2) + ":" + ("0" + sec).slice(-2);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
