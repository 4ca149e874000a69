/* Shared by the live-final pages: the socket, the server clock (the same handshake as attempts), texts. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("live-text").textContent);
  var offset = 0, bestRtt = Infinity;
  var socket = io({transports: ["websocket", "polling"]});
  var conn = document.getElementById("conn");

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
  socket.on("connect", function () {
    if (conn) conn.textContent = T.connected;
    bestRtt = Infinity;
    syncClock(5);
  });
  socket.on("disconnect", function () { if (conn) conn.textContent = T.connecting; });

  window.Live = {
    socket: socket,
    T: T,
    letters: "ABCDEF",
    now: function () { return Date.now() + offset; },
    fmt: function (s, n) { return s.replace("{n}", n); },
    call: function (event, data, done) {
      socket.timeout(8000).emit(event, data, function (err, reply) {
        done(err ? {ok: false, error: "timeout", message: T.connecting} : reply);
      });
    },
    secondsLeft: function (endMs) { return Math.max(0, Math.ceil((endMs - (Date.now() + offset)) / 1000)); },
    clear: function (node) { while (node.firstChild) node.removeChild(node.firstChild); }
  };
})();
