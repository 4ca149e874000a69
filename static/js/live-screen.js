/* The projector: lobby with PIN and QR, the question with a large countdown, the distribution, the podium. */
(function () {
  "use strict";
  var L = window.Live, T = L.T, $ = function (id) { return document.getElementById(id); };
  var root = $("live-screen");
  var sessionId = Number(root.dataset.sessionId);
  var current = null;

  function section(name) {
    $("lobby").hidden = name !== "lobby";
    $("stage").hidden = name !== "stage";
    $("final").hidden = name !== "final";
    root.dataset.view = name;
  }

  function renderQuestion(q) {
    current = q;
    section("stage");
    $("qnum").textContent = L.fmt(T.question, q.number) + " " + L.fmt(T.of, q.total);
    $("rescue-tag").hidden = !q.rescue;
    $("stem").textContent = q.stem;
    var list = $("options");
    L.clear(list);
    q.options.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    $("chart").hidden = true;
    $("standing").textContent = "";
    L.clear($("top"));
  }

  function renderChart(counts, correct) {
    var chart = $("chart");
    L.clear(chart);
    var max = Math.max.apply(null, counts.concat([1]));
    counts.forEach(function (n, i) {
      var row = document.createElement("div");
      row.className = "live-bar" + (correct === i ? " correct" : "");
      row.dataset.option = L.letters[i];
      var label = document.createElement("span");
      label.className = "live-bar-label";
      label.textContent = L.letters[i];
      var bar = document.createElement("span");
      bar.className = "live-bar-fill";
      bar.style.width = Math.round(100 * n / max) + "%";
      var count = document.createElement("span");
      count.className = "live-bar-count";
      count.textContent = String(n);
      row.appendChild(label); row.appendChild(bar); row.appendChild(count);
      chart.appendChild(row);
    });
    chart.hidden = false;
    $("countdown").textContent = correct === undefined || correct === null ? T.closed : L.fmt(T.correct_is, L.letters[correct]);
  }

  function renderStanding(s) {
    if (s.survivors !== undefined) $("standing").textContent = L.fmt(T.survivors, s.survivors);
    var top = $("top");
    L.clear(top);
    (s.top || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.name + " — " + L.fmt(T.points, p.score);
      top.appendChild(li);
    });
  }

  function renderPodium(podium) {
    section("final");
    var list = $("podium");
    L.clear(list);
    podium.forEach(function (p) { var li = document.createElement("li"); li.textContent = p.name; list.appendChild(li); });
  }

  function apply(s) {
    $("lobby-count").textContent = String(s.players);
    if (s.phase === "lobby") { section("lobby"); return; }
    if (s.phase === "ended") { renderPodium(s.podium || []); return; }
    if (s.question) renderQuestion(s.question);
    if (s.counts && s.phase !== "question") renderChart(s.counts, s.phase === "revealed" ? s.correct : null);
    if (s.phase === "revealed") renderStanding(s);
  }

  setInterval(function () {
    if (current && $("chart").hidden) $("countdown").textContent = String(L.secondsLeft(current.end_ms));
  }, 200);

  L.socket.on("connect", function () {
    L.call("live:screen", {session_id: sessionId}, function (reply) { if (reply.ok) apply(reply.state); });
  });
  L.socket.on("live:lobby", function (d) { $("lobby-count").textContent = String(d.players); });
  L.socket.on("live:question", renderQuestion);
  L.socket.on("live:closed", function (d) { renderChart(d.counts, null); });
  L.socket.on("live:revealed", function (d) { renderChart(d.counts, d.correct); renderStanding(d); });
  L.socket.on("live:rescued", renderStanding);
  L.socket.on("live:ended", function (d) { renderPodium(d.podium); });
})();
