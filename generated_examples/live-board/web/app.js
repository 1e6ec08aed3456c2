// Browser side: connects anonymously to the router that served this page (same origin),
// calls the backend's RPC and shows live events. WAMP payloads are untrusted data: they are
// only ever inserted with textContent. No secrets here: the router decides the role ("browser").
(function () {
  "use strict";

  var realm = document.body.dataset.realm;
  var prefix = document.body.dataset.prefix;
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";

  var statusEl = document.getElementById("status");
  var helloButton = document.getElementById("hello");
  var helloResult = document.getElementById("hello-result");
  var eventsList = document.getElementById("events");

  var session = null;

  function setStatus(text) {
    statusEl.textContent = text;
  }

  function addEvent(text) {
    var item = document.createElement("li");
    item.textContent = text;
    eventsList.appendChild(item);
  }

  function errorText(err) {
    if (err && err.error) {
      return err.error + (err.args && err.args.length ? ": " + String(err.args[0]) : "");
    }
    return String(err);
  }

  helloButton.addEventListener("click", function () {
    if (!session) { return; }
    session.call(prefix + "hello", ["browser"]).then(
      function (greeting) { helloResult.textContent = String(greeting); },
      function (err) { helloResult.textContent = "error: " + errorText(err); }
    );
  });

  var connection = new autobahn.Connection({
    url: scheme + window.location.host + "/ws",
    realm: realm,
    max_retries: 10,
    initial_retry_delay: 1,
    max_retry_delay: 10
  });

  connection.onopen = function (newSession) {
    session = newSession;
    setStatus("subscribing");
    session.subscribe(prefix + "events", function (args) {
      var event = (args && args[0]) || {};
      addEvent(String(event.greeting));
    }).then(function () {
      setStatus("connected");
      helloButton.disabled = false;
    }, function (err) {
      setStatus("subscribe failed: " + errorText(err));
    });
  };

  connection.onclose = function (reason, details) {
    session = null;
    helloButton.disabled = true;
    setStatus("disconnected (" + String(reason) + ")");
  };

  connection.open();
}());
