/* The host console: every button is one acknowledged event; the state is re-read from the server. */
(function () {
  "use strict";
  var L = window.Live, T = L.T, $ = function (id) { return document.getElementById(id); };
  var root = $("live-host");
  var sessionId = Number(root.dataset.sessionId);
  var phases = JSON.parse($("live-phases").textContent);
  var state = null, poll = null;

  function render(s) {
    state = s;
    $("phase").textContent = phases[s.phase] || s.phase;
    root.dataset.phase = s.phase;
    $("players").textContent = L.fmt(T.players, s.players);
    $("survivors").textContent = s.survivors !== undefined ? "· " + L.fmt(T.survivors, s.survivors) : "";
    var q = s.question;
    $("qnum").textContent = q ? L.fmt(T.question, q.number) + " " + L.fmt(T.of, q.total) + (q.rescue ? " · " + T.rescue : "") : "";
    $("stem").textContent = q ? q.stem : "";
    var dist = $("dist");
    L.clear(dist);
    if (q) {
      q.options.forEach(function (text, i) {
        var li = document.createElement("li");
        var n = s.counts ? s.counts[i] : 0;
        li.textContent = text + " — " + n;
        if (s.correct === i) li.className = "correct";
        dist.appendChild(li);
      });
    }
    var podium = $("podium");
    L.clear(podium);
    (s.podium || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.name;
      podium.appendChild(li);
    });
    $("btn-next").disabled = !(s.phase === "lobby" || s.phase === "revealed") || s.position + 1 >= s.total;
    $("btn-close").disabled = s.phase !== "question";
    $("btn-reveal").disabled = !(s.phase === "question" || s.phase === "closed");
    if ($("btn-rescue")) $("btn-rescue").disabled = s.phase !== "revealed";
    $("btn-end").disabled = s.phase === "ended";
    // The host sees the counts live while answers arrive: re-read once a second (throttled, not per answer).
    if (s.phase === "question" && !poll) poll = setInterval(load, 1000);
    if (s.phase !== "question" && poll) { clearInterval(poll); poll = null; }
  }

  function tick() {
    var q = state && state.question;
    $("timer").textContent = q && state.phase === "question" ? L.secondsLeft(q.end_ms) + "s" : "";
  }
  setInterval(tick, 250);

  function act(action, extra) {
    var data = {session_id: sessionId, action: action};
    Object.keys(extra || {}).forEach(function (k) { data[k] = extra[k]; });
    L.call("live:host", data, function (reply) {
      var err = $("error");
      if (!reply.ok) { err.textContent = reply.message || reply.error; err.hidden = false; return; }
      err.hidden = true;
      render(reply.state);
    });
  }
  function load() { act("state"); }

  Array.prototype.forEach.call(root.querySelectorAll("[data-action]"), function (b) {
    b.addEventListener("click", function () {
      var extra = {};
      if (b.dataset.action === "rescue") extra.n = Number($("rescue-n").value);
      act(b.dataset.action, extra);
    });
  });
  L.socket.on("connect", load);
  ["live:lobby", "live:closed", "live:revealed", "live:rescued", "live:ended"].forEach(function (e) { L.socket.on(e, load); });
})();
