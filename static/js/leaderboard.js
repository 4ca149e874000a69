/* The public (projector) leaderboard: the server pushes the top 10 at most once a second. */
(function () {
  "use strict";
  var root = document.getElementById("leaderboard");
  if (!root) return;
  var roundId = Number(root.dataset.roundId);
  var version = Number(root.dataset.version);
  var official = root.dataset.official === "1";
  var T = JSON.parse(document.getElementById("board-text").textContent);
  var tbody = root.querySelector("tbody");

  function duration(ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2) + T.minutes;
  }

  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }

  function render(board) {
    if (board.round_id !== roundId || board.version < version) return;
    // The judges published (or published again): the page shows the official standings with their prizes.
    if (Boolean(board.official) !== official) { window.location.reload(); return; }
    version = board.version;
    tbody.innerHTML = "";
    if (!board.top.length) {
      var tr0 = document.createElement("tr"); tr0.className = "empty";
      var td = document.createElement("td"); td.colSpan = official ? 6 : 5; td.textContent = T.empty; tr0.appendChild(td);
      tbody.appendChild(tr0);
    }
    board.top.forEach(function (e) {
      var tr = document.createElement("tr");
      cell(tr, e.rank); cell(tr, e.name); cell(tr, e.unit); cell(tr, e.correct); cell(tr, duration(e.time_ms));
      if (official) cell(tr, e.prize || "");
      tbody.appendChild(tr);
    });
  }

  var socket = io("/public", {transports: ["websocket", "polling"]});
  var status = document.getElementById("board-status");
  socket.on("connect", function () {
    status.textContent = T.live;
    socket.emit("leaderboard:join", {round_id: roundId}, function (ack) { if (ack && ack.ok) render(ack); });
  });
  socket.on("disconnect", function () { status.textContent = T.offline; });
  socket.on("leaderboard", render);
})();
