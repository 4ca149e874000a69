/* The player's phone: join by PIN, the lobby, four big letter buttons, the result after each reveal. */
(function () {
  "use strict";
  var L = window.Live, T = L.T, $ = function (id) { return document.getElementById(id); };
  var sessionId = null, current = null, timer = null, me = {}, phase = null;

  function show(joined) { $("join-box").hidden = joined; $("game").hidden = !joined; }

  function renderTimer() {
    if (!current) { $("timer").textContent = ""; return; }
    var s = L.secondsLeft(current.end_ms);
    $("timer").textContent = s + "s";
    if (s <= 0) { clearInterval(timer); timer = null; lockChoices(); }
  }

  function lockChoices() {
    Array.prototype.forEach.call($("choices").querySelectorAll("button"), function (b) { b.disabled = true; });
  }

  function renderQuestion(q, mine) {
    current = q;
    $("qnum").textContent = L.fmt(T.question, q.number) + " " + L.fmt(T.of, q.total) + (q.rescue ? " · " + T.rescue : "");
    $("stem").textContent = q.stem;
    $("result").textContent = "";
    var box = $("choices");
    L.clear(box);
    var canAnswer = me.player && (q.rescue ? me.eliminated : !me.eliminated);
    q.options.forEach(function (text, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "live-choice live-choice-" + i;
      b.dataset.choice = String(i);
      var letter = document.createElement("span");
      letter.className = "live-letter";
      letter.textContent = L.letters[i];
      var label = document.createElement("span");
      label.textContent = text;
      b.appendChild(letter);
      b.appendChild(label);
      b.disabled = !canAnswer || (mine && mine.answered);
      if (mine && mine.choice === i) b.classList.add("chosen");
      b.addEventListener("click", function () { choose(i); });
      box.appendChild(b);
    });
    if (!me.player) $("status").textContent = T.watching;
    else if (q.rescue && !me.eliminated) $("status").textContent = T.rescue_wait;
    else if (me.eliminated && !q.rescue) $("status").textContent = T.eliminated_watch;
    else $("status").textContent = mine && mine.answered ? T.answered : "";
    if (timer) clearInterval(timer);
    timer = setInterval(renderTimer, 250);
    renderTimer();
  }

  function choose(i) {
    lockChoices();
    L.call("live:answer", {session_id: sessionId, position: current.position, choice: i}, function (reply) {
      var b = $("choices").querySelector('[data-choice="' + (reply.ok ? reply.choice : i) + '"]');
      if (reply.ok) { if (b) b.classList.add("chosen"); $("status").textContent = T.answered; }
      else { $("status").textContent = reply.message || reply.error; }
    });
  }

  function renderResult(state) {
    me = state.me || me;
    var text = "";
    if (state.phase === "revealed" && state.question) {
      var m = state.me || {};
      text = L.fmt(T.correct_is, L.letters[state.correct]) + " · ";
      if (!m.player) text += T.watching;
      else {
        if (m.answered) text += m.correct ? T.right : T.wrong; else text += T.no_answer;
        if (state.mode === "elimination") text += m.eliminated ? " · " + T.out : "";
        else text += " · " + L.fmt(T.gained, m.points || 0) + " · " + L.fmt(T.total, m.score);
        if (m.rank) text += " · " + L.fmt(T.rank, m.rank);
      }
      var right = $("choices").querySelector('[data-choice="' + state.correct + '"]');
      if (right) right.classList.add("correct");
      lockChoices();
    }
    $("result").textContent = text;
    $("result").dataset.outcome = state.me && state.me.eliminated ? "out" : "in";
  }

  function apply(state) {
    sessionId = state.session_id;
    phase = state.phase;
    me = state.me || {};
    show(true);
    $("game-title").textContent = state.title;
    $("formula").hidden = state.mode !== "points";
    if (state.phase === "lobby") {
      $("status").textContent = T.joined + " · " + L.fmt(T.players, state.players) + " · " + T.waiting;
    } else if (state.phase === "ended") {
      current = null; renderTimer();
      $("status").textContent = T.ended;
      if (me.rank) {
        $("result").textContent = L.fmt(T.rank, me.rank) + (state.mode === "points" ? " · " + L.fmt(T.total, me.score) : "");
      }
      lockChoices();
    } else if (state.question) {
      renderQuestion(state.question, state.me);
      if (state.phase !== "question") lockChoices();
      renderResult(state);
    }
  }

  function refresh() {
    if (!sessionId) return;
    L.call("live:state", {session_id: sessionId}, function (reply) { if (reply.ok) apply(reply.state); });
  }

  function join(pin) {
    L.call("live:join", {pin: pin}, function (reply) {
      var err = $("pin-error");
      if (!reply.ok) { err.textContent = reply.message || reply.error; err.hidden = false; $("pin").setAttribute("aria-invalid", "true"); return; }
      err.hidden = true;
      try { sessionStorage.setItem("live-pin", pin); } catch (e) { /* private mode */ }
      apply(reply.state);
    });
  }

  $("join-form").addEventListener("submit", function (ev) { ev.preventDefault(); join($("pin").value.trim()); });

  L.socket.on("connect", function () {
    // After a reload or a reconnect, join again with the remembered PIN (joining twice is harmless).
    var pin = null;
    try { pin = sessionStorage.getItem("live-pin"); } catch (e) { pin = null; }
    if (sessionId) refresh(); else if (pin) join(pin);
  });
  L.socket.on("live:lobby", function (d) {
    // A player count is news only in the lobby: a late one must not overwrite "the session has ended".
    if (phase === "lobby" && current === null && sessionId) $("status").textContent = T.joined + " · " + L.fmt(T.players, d.players) + " · " + T.waiting;
  });
  L.socket.on("live:question", function (q) { renderQuestion(q, null); });
  L.socket.on("live:closed", function () { lockChoices(); if (!$("status").textContent) $("status").textContent = T.closed; });
  L.socket.on("live:revealed", refresh);
  L.socket.on("live:rescued", refresh);
  L.socket.on("live:ended", refresh);
})();
