/* The attempt page: server-timed clock, one question at a time, every answer saved over Socket.IO.
   Questions and options are named by this attempt's opaque references (strings), never by bank ids. */
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root) return;
  var state = JSON.parse(document.getElementById("attempt-state").textContent);
  var T = JSON.parse(document.getElementById("attempt-text").textContent);
  var fmt = function (s, n) { return s.replace("{n}", n); };
  var attemptId = state.attempt_id;
  // Rough offset from the page render; the clock handshake refines it over the socket.
  var offset = state.server_ms - Date.now();
  var bestRtt = Infinity;
  var seq = state.seq || 0;
  var answers = {};   // question reference -> {selected: [option references], seq: n, acked: bool}
  var current = 0;
  var closed = false;
  Object.keys(state.answers).forEach(function (q) {
    answers[q] = {selected: state.answers[q].selected, seq: state.answers[q].seq, acked: true};
  });

  var $ = function (id) { return document.getElementById(id); };
  var socket = io({transports: ["websocket", "polling"]});

  function now() { return Date.now() + offset; }

  function syncClock(samples) {
    var t0 = Date.now();
    socket.timeout(5000).emit("clock", {}, function (err, reply) {
      if (!err && reply && reply.ok) {
        var t1 = Date.now(), rtt = t1 - t0;
        if (rtt < bestRtt) { bestRtt = rtt; offset = reply.server_ms - (t0 + rtt / 2); }
      }
      if (samples > 1) syncClock(samples - 1);
    });
  }

  function renderTimer() {
    var left = Math.max(0, state.deadline_ms - now());
    var s = Math.ceil(left / 1000);
    $("timer").textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
    root.classList.toggle("hurry", s <= 60);
    if (left <= 0 && !closed) timeUp();
  }

  function renderNavigator() {
    var nav = $("navigator");
    nav.innerHTML = "";
    state.questions.forEach(function (q, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = String(i + 1);
      var done = answers[q.id] && answers[q.id].selected.length > 0;
      var pending = answers[q.id] && !answers[q.id].acked;  // chosen, not yet confirmed by the server
      b.className = "nav-item" + (done ? " answered" : "") + (pending ? " pending" : "") + (i === current ? " current" : "");
      b.setAttribute("aria-label", fmt(T.question, i + 1) + (done ? " (" + T.answered + ")" : ""));
      if (i === current) b.setAttribute("aria-current", "step");
      b.addEventListener("click", function () { current = i; render(); });
      nav.appendChild(b);
    });
    var missing = state.questions.filter(function (q) { return !(answers[q.id] && answers[q.id].selected.length); }).length;
    $("unanswered").textContent = missing ? fmt(T.unanswered, missing) : T.all_answered;
  }

  function renderQuestion() {
    var q = state.questions[current];
    var box = $("question");
    box.innerHTML = "";
    var fs = document.createElement("fieldset");
    var legend = document.createElement("legend");
    var num = document.createElement("span");
    num.className = "q-number";
    num.textContent = fmt(T.question, current + 1) + " " + fmt(T.of, state.questions.length);
    legend.appendChild(num);
    var stem = document.createElement("span");
    stem.className = "q-stem";
    stem.textContent = q.stem;
    legend.appendChild(stem);
    fs.appendChild(legend);
    if (q.multi) { var h = document.createElement("p"); h.className = "hint"; h.textContent = T.multi; fs.appendChild(h); }
    var chosen = (answers[q.id] && answers[q.id].selected) || [];
    q.options.forEach(function (o, i) {
      var id = "q" + q.id + "o" + o.id;
      var label = document.createElement("label");
      label.className = "option";
      label.setAttribute("for", id);
      var input = document.createElement("input");
      input.type = q.multi ? "checkbox" : "radio";
      input.name = "q" + q.id;
      input.id = id;
      input.value = o.id;
      input.checked = chosen.indexOf(o.id) !== -1;
      input.disabled = closed;
      input.addEventListener("change", function () { choose(q); });
      var letter = document.createElement("span");
      letter.className = "letter";
      letter.textContent = "ABCDEFGH".charAt(i) + ".";
      var text = document.createElement("span");
      text.textContent = o.text;
      label.appendChild(input); label.appendChild(letter); label.appendChild(text);
      fs.appendChild(label);
    });
    box.appendChild(fs);
    $("prev").disabled = current === 0;
    $("next").disabled = current === state.questions.length - 1;
  }

  function render() { renderNavigator(); renderQuestion(); }

  function choose(q) {
    var selected = Array.prototype.map.call(
      document.querySelectorAll('input[name="q' + q.id + '"]:checked'), function (i) { return i.value; });
    seq += 1;
    answers[q.id] = {selected: selected, seq: seq, acked: false};
    renderNavigator();
    send(q.id);
  }

  function position(qid) {
    for (var i = 0; i < state.questions.length; i++) if (state.questions[i].id === qid) return i + 1;
    return "?";
  }

  function send(qid) {
    var a = answers[qid];
    if (!socket.connected) { $("save-status").textContent = T.offline; return; }
    $("save-status").textContent = fmt(T.saving, position(qid));
    socket.timeout(8000).emit("answer", {attempt_id: attemptId, question_id: qid, selected: a.selected, seq: a.seq},
      function (err, ack) {
        if (err) {
          // No ack in time: resend the same seq (idempotent) while connected; after a reconnect, resendPending does.
          $("save-status").textContent = T.offline;
          setTimeout(function () { if (socket.connected && answers[qid] === a && !a.acked) send(qid); }, 2000);
          return;
        }
        if (!ack.ok) {
          $("save-status").textContent = ack.message;
          // Too many answers in a second from this socket: the answer was not saved; send it again shortly.
          if (ack.error === "rate_limited") {
            setTimeout(function () { if (socket.connected && answers[qid] === a && !a.acked) send(qid); }, 1000);
            return;
          }
          if (ack.error === "deadline_passed" || ack.error === "attempt_closed") timeUp();
          return;
        }
        var mine = answers[qid];
        if (ack.seq >= mine.seq) {
          answers[qid] = {selected: ack.selected, seq: ack.seq, acked: true};
          if (ack.seq > seq) seq = ack.seq;
        }
        $("save-status").textContent = fmt(T.saved, position(qid));
        renderNavigator();
      });
  }

  function resendPending() {
    Object.keys(answers).forEach(function (qid) { if (!answers[qid].acked) send(qid); });
  }

  function goToResult(url) { window.location.assign(url || ("/luot-thi/" + attemptId + "/ket-qua")); }

  function timeUp() {
    if (closed) return;
    closed = true;
    $("timer").textContent = "0:00";
    $("save-status").textContent = T.time_up;
    Array.prototype.forEach.call(root.querySelectorAll("input, button"), function (el) { el.disabled = true; });
    // The server closes the attempt at its deadline anyway; asking now just brings the result sooner.
    socket.timeout(8000).emit("submit", {attempt_id: attemptId}, function (err, ack) {
      setTimeout(function () { goToResult(ack && ack.ok ? ack.result.result_url : null); }, 1500);
    });
  }

  $("prev").addEventListener("click", function () { if (current > 0) { current -= 1; render(); } });
  $("next").addEventListener("click", function () { if (current < state.questions.length - 1) { current += 1; render(); } });
  $("submit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var payload = {attempt_id: attemptId};
    var p = $("prediction");
    if (p) {
      var err = $("prediction-error");
      if (!/^\d+$/.test(p.value.trim())) {
        err.textContent = T.prediction_required; err.hidden = false; p.setAttribute("aria-invalid", "true"); p.focus();
        return;
      }
      err.hidden = true; p.setAttribute("aria-invalid", "false");
      payload.prediction = parseInt(p.value.trim(), 10);
    }
    $("submit").disabled = true;
    $("submit-error").hidden = true;
    $("save-status").textContent = T.submitting;
    socket.timeout(10000).emit("submit", payload, function (err, ack) {
      if (!err && ack.ok) { closed = true; goToResult(ack.result.result_url); return; }
      $("submit").disabled = false;
      $("submit-error").textContent = err ? T.offline : ack.message;
      $("submit-error").hidden = false;
    });
  });

  socket.on("connect", function () {
    $("conn").textContent = T.connected;
    root.classList.remove("offline");
    bestRtt = Infinity;
    syncClock(3);
    socket.timeout(8000).emit("attempt:join", {attempt_id: attemptId}, function (err, ack) {
      if (err || !ack.ok) return;
      if (ack.state.status !== "in_progress") { closed = true; goToResult(); return; }
      state.deadline_ms = ack.state.deadline_ms;
      // What the server holds wins, except answers still waiting for their ack.
      Object.keys(ack.state.answers).forEach(function (qid) {
        var srv = ack.state.answers[qid], mine = answers[qid];
        if (!mine || mine.acked || srv.seq >= mine.seq) answers[qid] = {selected: srv.selected, seq: srv.seq, acked: true};
      });
      if (ack.state.seq > seq) seq = ack.state.seq;
      render();
      resendPending();
    });
  });
  socket.on("disconnect", function () { $("conn").textContent = T.offline; root.classList.add("offline"); });

  render();
  renderTimer();
  setInterval(renderTimer, 250);
})();
