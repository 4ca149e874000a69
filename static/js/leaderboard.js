/* The round's live board (phone) and its projector mode: the server pushes the top 10 at most once a second
   (docs/realtime.md); the numbers so far and the round's times come from a small JSON endpoint polled every 15 s. */
(function () {
  "use strict";
  var root = document.getElementById("leaderboard");
  if (!root) return;
  var roundId = Number(root.dataset.roundId);
  var version = Number(root.dataset.version);
  var official = root.dataset.official === "1";
  var projector = root.dataset.projector === "1";
  var meId = root.dataset.me ? Number(root.dataset.me) : null;
  var T = JSON.parse(document.getElementById("board-text").textContent);
  var tbody = root.querySelector("#board tbody");
  var rowsBox = document.getElementById("board-rows");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "vi");

  function duration(ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2) + T.minutes;
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function renderPodium(top) {
    var podium = document.getElementById("podium");
    if (!podium) return;
    [1, 2, 3].forEach(function (n) {
      var li = podium.querySelector('[data-place="' + n + '"]');
      var e = top[n - 1];
      li.querySelector(".podium-name").textContent = e ? e.name : "—";
      li.querySelector(".podium-unit").textContent = e ? e.unit : "";
      li.querySelector(".podium-score").textContent = e ? T.correct.replace("{n}", e.correct) + " · " + duration(e.time_ms) : "";
      li.querySelector(".podium-prize").textContent = e && e.prize ? e.prize : "";
      li.querySelector(".podium-rank").textContent = e ? e.rank : n;
    });
  }

  function render(board) {
    if (board.round_id !== roundId || board.version < version) return;
    // The judges published (or published again): the page shows the official standings with their prizes.
    if (Boolean(board.official) !== official) { window.location.reload(); return; }
    version = board.version;
    renderPodium(board.top);
    var rows = projector ? board.top.slice(3) : board.top;
    tbody.innerHTML = "";
    if (!board.top.length) {
      var tr0 = document.createElement("tr");
      tr0.className = "empty";
      cell(tr0, T.empty).colSpan = official ? 6 : 5;
      tbody.appendChild(tr0);
    }
    var mineShown = false;
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      cell(tr, e.rank);
      var name = cell(tr, e.name);
      if (meId !== null && e.user_id === meId) {
        mineShown = true;
        tr.className = "mine";
        tr.setAttribute("aria-current", "true");
        var you = document.createElement("span");
        you.className = "sr-only";
        you.textContent = " " + T.you;
        name.appendChild(you);
      }
      cell(tr, e.unit); cell(tr, e.correct); cell(tr, duration(e.time_ms));
      if (official) cell(tr, e.prize || "");
      tbody.appendChild(tr);
    });
    if (rowsBox) rowsBox.hidden = projector && board.top.length > 0 && rows.length === 0;
    if (mineShown) showMyRank(null);
  }

  // A signed-in contestant's rank when it is below the top 10 (the `rank` push, or the join's `me`).
  function showMyRank(rank) {
    var box = document.getElementById("my-rank");
    if (!box) return;
    box.hidden = !(rank && rank > 10);
    if (rank) document.getElementById("my-rank-value").textContent = rank;
  }

  // --- the round's countdown, against the server's clock ---------------------------------------------
  var offset = Number(root.dataset.serverMs) - Date.now();
  var opensMs = Number(root.dataset.opensMs);
  var closesMs = Number(root.dataset.closesMs);
  var label = document.getElementById("countdown-label");
  var value = document.getElementById("round-countdown");

  function clock(left) {
    var s = Math.floor(left / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (d ? T.days.replace("{n}", d) + " " : "") + ("0" + h).slice(-2) + ":" + ("0" + m).slice(-2) + ":" + ("0" + sec).slice(-2);
  }

  function tick() {
    var now = Date.now() + offset;
    if (now < opensMs) { label.textContent = T.opens_in; value.textContent = clock(opensMs - now); }
    else if (now < closesMs) { label.textContent = T.left; value.textContent = clock(closesMs - now); }
    else { label.textContent = T.closed; value.textContent = ""; }
  }
  tick();
  setInterval(tick, 1000);

  // --- participants and attempts so far --------------------------------------------------------------
  function poll() {
    fetch(root.dataset.statsUrl, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        offset = s.server_ms - Date.now();
        opensMs = s.opens_ms; closesMs = s.closes_ms;
        document.getElementById("stat-participants").textContent = numbers.format(s.participants);
        document.getElementById("stat-attempts").textContent = numbers.format(s.attempts);
        tick();
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(poll, 15000);

  // --- full screen (projector) -----------------------------------------------------------------------
  var full = document.getElementById("fullscreen");
  if (full && document.fullscreenEnabled) {
    full.hidden = false;
    full.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); });
    document.addEventListener("fullscreenchange", function () { full.hidden = Boolean(document.fullscreenElement); });
  }

  // --- live updates: a signed-in contestant joins on "/" (own row and rank), anyone else on "/public" ----
  var status = document.getElementById("board-status");

  function connect(namespace) {
    var socket = io(namespace, {transports: ["websocket", "polling"]});
    socket.on("connect", function () {
      status.textContent = T.live;
      socket.emit("leaderboard:join", {round_id: roundId}, function (ack) {
        if (!ack || !ack.ok) return;
        render(ack);
        if (ack.me) showMyRank(ack.me.rank);
      });
    });
    socket.on("connect_error", function (err) {
      // The session ended (signed out elsewhere): watch the public board instead.
      if (namespace === "/" && err && err.message === "unauthorized") {
        socket.close();
        meId = null;
        connect("/public");
      }
    });
    socket.on("disconnect", function () { status.textContent = T.offline; });
    socket.on("leaderboard", render);
    socket.on("rank", function (r) { if (r.round_id === roundId) showMyRank(r.rank); });
  }
  connect(meId !== null ? "/" : "/public");
})();
