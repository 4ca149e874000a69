/* The attempt page: server-timed clock, one question at a time, every answer saved over Socket.IO.
   Questions and options are named by this attempt's opaque references (strings), never by bank ids.
   Nothing typed is lost: choices not yet acknowledged and the question on screen are kept in localStorage (keyed by
   the attempt) and resent after a reload or a reconnect; the prediction is saved to the server as it is typed. */
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root) return;
  var state = JSON.parse(document.getElementById("attempt-state").textContent);
  var T = JSON.parse(document.getElementById("attempt-text").textContent);
  var fmt = function (s, n) { return s.replace("{n}", n); };
  var attemptId = state.attempt_id;
  var body = document.body;
  // Rough offset from the page render; the clock handshake refines it over the socket.
  var offset = state.server_ms - Date.now();
  var bestRtt = Infinity;
  var seq = state.seq || 0;
  var answers = {};   // question reference -> {selected: [option references], seq: n, acked: bool}
  var current = 0;
  var closed = false;
  var MAX_PREDICTION = 1000000000;
  var serverPrediction = state.prediction || {};
  // The prediction as the server holds it (acked) or as typed and not yet acknowledged.
  var pred = {value: serverPrediction.value === undefined ? null : serverPrediction.value,
              seq: serverPrediction.seq || 0, acked: true};
  var predInFlight = false;
  var predTimer = null;
  Object.keys(state.answers).forEach(function (q) {
    answers[q] = {selected: state.answers[q].selected, seq: state.answers[q].seq, acked: true};
  });

  var $ = function (id) { return document.getElementById(id); };
  var predInput = $("prediction");

  // --- what survives a reload: unacknowledged choices and prediction, the question on screen ---
  var storeKey = "contest:attempt:" + attemptId;
  function readStore() {
    try { return JSON.parse(window.localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function writeStore() {
    if (closed) return;
    var pending = {};
    Object.keys(answers).forEach(function (qid) {
      if (!answers[qid].acked) pending[qid] = {selected: answers[qid].selected, seq: answers[qid].seq};
    });
    var data = {current: current, answers: pending};
    if (!pred.acked) data.prediction = {value: pred.value, seq: pred.seq};
    try { window.localStorage.setItem(storeKey, JSON.stringify(data)); } catch (e) { /* private mode: memory only */ }
  }
  function clearStore() { try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ } }
  (function restore() {
    var kept = readStore();
    var byId = {};
    state.questions.forEach(function (q) { byId[q.id] = q; });
    if (typeof kept.current === "number" && kept.current >= 0 && kept.current < state.questions.length) current = kept.current;
    Object.keys(kept.answers || {}).forEach(function (qid) {
      var q = byId[qid], mine = kept.answers[qid], srv = answers[qid];
      if (!q || !mine || !Array.isArray(mine.selected) || typeof mine.seq !== "number") return;
      if (srv && srv.seq >= mine.seq) return;  // the server already holds this choice or a newer one
      var options = q.options.map(function (o) { return o.id; });
      var selected = mine.selected.filter(function (r) { return options.indexOf(r) !== -1; });
      answers[qid] = {selected: selected, seq: mine.seq, acked: false};
      if (mine.seq > seq) seq = mine.seq;
    });
    var kp = kept.prediction;
    if (predInput && kp && typeof kp.seq === "number" && kp.seq > pred.seq) {
      pred = {value: kp.value, seq: kp.seq, acked: false};
      if (kp.seq > seq) seq = kp.seq;
    }
    if (predInput && pred.value !== null) predInput.value = String(pred.value);
  })();

  function unsent() {
    var n = Object.keys(answers).filter(function (qid) { return !answers[qid].acked; }).length;
    return n + (predInput && (!pred.acked || predTimer) ? 1 : 0);
  }

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
    if (closed) return;
    var left = Math.max(0, state.deadline_ms - now());
    var s = Math.ceil(left / 1000);
    $("timer").textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
    body.classList.toggle("attempt-hurry", s <= 60);
    if (left <= 0) timeUp();
  }

  // The navigator's buttons are built once and updated in place: the one just activated keeps keyboard focus.
  var navButtons = [];
  function buildNavigator() {
    var nav = $("navigator");
    state.questions.forEach(function (q, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "nav-item";
      b.textContent = String(i + 1);
      b.addEventListener("click", function () { goTo(i); });
      nav.appendChild(b);
      navButtons.push(b);
    });
  }

  function isAnswered(q) { return !!(answers[q.id] && answers[q.id].selected.length > 0); }

  function renderNavigator() {
    state.questions.forEach(function (q, i) {
      var b = navButtons[i];
      var done = isAnswered(q);
      var pending = answers[q.id] && !answers[q.id].acked;  // chosen, not yet confirmed by the server
      b.className = "nav-item" + (done ? " answered" : "") + (pending ? " pending" : "") + (i === current ? " current" : "");
      b.setAttribute("aria-label", fmt(T.question, i + 1) + (done ? " (" + T.answered + ")" : ""));
      if (i === current) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
      b.disabled = closed;
    });
    var missing = state.questions.filter(function (q) { return !isAnswered(q); }).length;
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
    $("prev").disabled = closed || current === 0;
    $("next").disabled = closed || current === state.questions.length - 1;
  }

  function render() { renderNavigator(); renderQuestion(); }

  function goTo(i, focusQuestion) {
    current = i;
    render();
    writeStore();
    if (focusQuestion) $("question").focus();
  }

  function choose(q) {
    var selected = Array.prototype.map.call(
      document.querySelectorAll('input[name="q' + q.id + '"]:checked'), function (i) { return i.value; });
    seq += 1;
    answers[q.id] = {selected: selected, seq: seq, acked: false};
    writeStore();
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
        writeStore();
        renderNavigator();
        if (answers[qid].acked && qid === state.questions[current].id && ack.duplicate) renderQuestion();
      });
  }

  function resendPending() {
    Object.keys(answers).forEach(function (qid) { if (!answers[qid].acked) send(qid); });
    if (predInput && !pred.acked) sendPrediction();
  }

  // --- the prediction, saved as it is typed (debounced) ---
  function predStatus(text) { var el = $("prediction-status"); if (el) el.textContent = text; }
  function predError(text) {
    var err = $("prediction-error");
    err.textContent = text || "";
    err.hidden = !text;
    predInput.setAttribute("aria-invalid", text ? "true" : "false");
  }
  // The field's value as the protocol wants it: an integer, null when empty, undefined when not valid.
  function typedPrediction() {
    var raw = predInput.value.trim();
    if (raw === "") return predInput.validity && predInput.validity.badInput ? undefined : null;
    if (!/^\d+$/.test(raw)) return undefined;
    var n = parseInt(raw, 10);
    return n > MAX_PREDICTION ? undefined : n;
  }
  function checkPrediction() {
    var v = typedPrediction();
    if (v === undefined) {
      var raw = predInput.value.trim();
      predError(/^\d+$/.test(raw) ? T.prediction_too_big : T.prediction_required);
    } else {
      predError("");
    }
    return v;
  }
  function flushPrediction() {
    if (predTimer) { clearTimeout(predTimer); predTimer = null; }
    if (closed) return;
    var v = checkPrediction();
    if (v === undefined || v === pred.value) return;
    seq += 1;
    pred = {value: v, seq: seq, acked: false};
    writeStore();
    sendPrediction();
  }
  function sendPrediction() {
    if (predInFlight || closed) return;
    if (!socket.connected) { predStatus(T.prediction_offline); return; }
    var p = pred;
    predInFlight = true;
    predStatus(T.prediction_saving);
    socket.timeout(8000).emit("prediction", {attempt_id: attemptId, prediction: p.value, seq: p.seq}, function (err, ack) {
      predInFlight = false;
      if (err) {
        predStatus(T.prediction_offline);
        setTimeout(function () { if (socket.connected && !pred.acked) sendPrediction(); }, 2000);
        return;
      }
      if (!ack.ok) {
        if (ack.error === "rate_limited") {
          setTimeout(function () { if (socket.connected && !pred.acked) sendPrediction(); }, 1000);
          return;
        }
        predStatus(ack.message);
        if (ack.error === "deadline_passed" || ack.error === "attempt_closed") timeUp();
        return;
      }
      if (ack.seq > seq) seq = ack.seq;
      if (pred === p) {
        pred = {value: ack.prediction, seq: ack.seq, acked: true};
        // A newer value saved from another tab or device: show what the server holds.
        if (ack.duplicate && ack.seq > p.seq) predInput.value = ack.prediction === null ? "" : String(ack.prediction);
        predStatus(T.prediction_saved);
        writeStore();
      } else {
        sendPrediction();  // typed again while this one was on its way
      }
    });
  }
  if (predInput) {
    predInput.addEventListener("input", function () {
      if (predTimer) clearTimeout(predTimer);
      if (checkPrediction() === undefined) { predTimer = null; return; }
      predTimer = setTimeout(flushPrediction, 500);
    });
    predInput.addEventListener("change", flushPrediction);
    predInput.addEventListener("blur", flushPrediction);
  }

  function goToResult(url) {
    closed = true;
    clearStore();
    window.location.assign(url || ("/luot-thi/" + attemptId + "/ket-qua"));
  }

  function timeUp() {
    if (closed) return;
    closed = true;
    if (predTimer) { clearTimeout(predTimer); predTimer = null; }
    clearStore();
    $("timer").textContent = T.time_up_timer;
    body.classList.add("attempt-closed");
    var dialog = $("confirm");
    if (dialog.open) dialog.close();
    $("time-up").hidden = false;
    window.scrollTo(0, 0);
    $("save-status").textContent = "";
    Array.prototype.forEach.call(root.querySelectorAll("input, button"), function (el) { el.disabled = true; });
    // The server closes the attempt at its deadline anyway; asking now just brings the result sooner.
    socket.timeout(8000).emit("submit", {attempt_id: attemptId}, function (err, ack) {
      setTimeout(function () { goToResult(ack && ack.ok ? ack.result.result_url : null); }, 2500);
    });
  }

  // --- submit: a summary and a confirmation first ---
  function openConfirm() {
    var total = state.questions.length;
    var missing = [];
    state.questions.forEach(function (q, i) { if (!isAnswered(q)) missing.push(i); });
    $("confirm-summary").textContent = T.summary.replace("{a}", total - missing.length).replace("{n}", total) +
      (missing.length ? " " + T.summary_missing.replace("{m}", missing.length) : "");
    var list = $("confirm-missing");
    list.innerHTML = "";
    missing.forEach(function (i) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#question";
      a.textContent = fmt(T.question, i + 1);
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        $("confirm").close();
        goTo(i, true);
      });
      li.appendChild(a);
      list.appendChild(li);
    });
    $("confirm-missing-box").hidden = missing.length === 0;
    var waiting = Object.keys(answers).filter(function (qid) { return !answers[qid].acked; }).length;
    $("confirm-pending").textContent = waiting ? fmt(T.pending, waiting) : "";
    $("confirm-pending").hidden = !waiting;
    var dialog = $("confirm");
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
      $("confirm-cancel").focus();
    } else if (window.confirm($("confirm-summary").textContent)) {
      doSubmit();
    }
  }

  function doSubmit() {
    var payload = {attempt_id: attemptId};
    if (predInput) payload.prediction = typedPrediction();
    $("submit").disabled = true;
    $("submit-error").hidden = true;
    $("save-status").textContent = T.submitting;
    socket.timeout(10000).emit("submit", payload, function (err, ack) {
      if (!err && ack.ok) { goToResult(ack.result.result_url); return; }
      $("submit").disabled = false;
      $("submit-error").textContent = err ? T.offline : ack.message;
      $("submit-error").hidden = false;
      if (!err && (ack.error === "deadline_passed" || ack.error === "attempt_closed")) timeUp();
    });
  }

  $("prev").addEventListener("click", function () { if (current > 0) goTo(current - 1); });
  $("next").addEventListener("click", function () { if (current < state.questions.length - 1) goTo(current + 1); });
  $("submit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (closed) return;
    if (predInput) {
      var v = checkPrediction();
      if (v === undefined || v === null) {
        if (v === null) predError(T.prediction_required);
        predInput.focus();
        return;
      }
      flushPrediction();
    }
    openConfirm();
  });
  $("confirm-cancel").addEventListener("click", function () { $("confirm").close(); });
  $("confirm-submit").addEventListener("click", function () { $("confirm").close(); doSubmit(); });

  // Leaving with choices the server has not acknowledged asks first (they are kept for a reload all the same).
  window.addEventListener("beforeunload", function (ev) {
    if (closed || !unsent()) return;
    ev.preventDefault();
    ev.returnValue = "";
  });

  socket.on("connect", function () {
    $("conn").textContent = T.connected;
    body.classList.remove("attempt-offline");
    bestRtt = Infinity;
    syncClock(3);
    socket.timeout(8000).emit("attempt:join", {attempt_id: attemptId}, function (err, ack) {
      if (err || !ack.ok) return;
      if (ack.state.status !== "in_progress") { goToResult(); return; }
      state.deadline_ms = ack.state.deadline_ms;
      // What the server holds wins, except answers still waiting for their ack.
      Object.keys(ack.state.answers).forEach(function (qid) {
        var srv = ack.state.answers[qid], mine = answers[qid];
        if (!mine || mine.acked || srv.seq >= mine.seq) answers[qid] = {selected: srv.selected, seq: srv.seq, acked: true};
      });
      var sp = ack.state.prediction || {};
      if (predInput && sp.seq > pred.seq && !predTimer) {
        pred = {value: sp.value, seq: sp.seq, acked: true};
        predInput.value = sp.value === null ? "" : String(sp.value);
      }
      if (ack.state.seq > seq) seq = ack.state.seq;
      writeStore();
      render();
      resendPending();
    });
  });
  socket.on("disconnect", function () { $("conn").textContent = T.offline; body.classList.add("attempt-offline"); });

  buildNavigator();
  render();
  renderTimer();
  setInterval(renderTimer, 250);
})();
