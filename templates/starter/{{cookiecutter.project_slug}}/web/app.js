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
{%- if cookiecutter.stack == "hybrid" %}
  var startButton = document.getElementById("start-job");
  var jobIdEl = document.getElementById("job-id");
  var progressEl = document.getElementById("progress");
  var resultEl = document.getElementById("result");
{%- endif %}

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
{%- if cookiecutter.stack == "hybrid" %}

  function showProgress(percent) {
    var value = Math.max(0, Math.min(100, Number(percent) || 0));
    progressEl.value = value;
    progressEl.textContent = value + "%";
  }

  startButton.addEventListener("click", function () {
    if (!session) { return; }
    startButton.disabled = true;
    jobIdEl.textContent = "";
    resultEl.textContent = "";
    showProgress(0);

    // Subscribe first, then start the job: events that arrive before start_job returns
    // the job id are buffered, so none are lost.
    var jobId = null;
    var early = [];
    var subscriptions = [];

    function finish() {
      subscriptions.forEach(function (sub) {
        // The session may be gone already (the router restarted): nothing left to undo then.
        try { sub.unsubscribe().then(null, function () {}); } catch (ignored) { /* closed */ }
      });
      subscriptions = [];
      startButton.disabled = session === null;
    }

    function handle(kind, payload) {
      if (!payload || payload.job_id !== jobId) { return; }
      if (kind === "progress") {
        showProgress(payload.percent);
      } else {
        showProgress(100);
        resultEl.textContent = String(payload.result);
        finish();
      }
    }

    function onEvent(kind) {
      return function (args) {
        var payload = args && args[0];
        if (jobId === null) { early.push([kind, payload]); } else { handle(kind, payload); }
      };
    }

    Promise.all([
      session.subscribe(prefix + "jobs.progress", onEvent("progress")),
      session.subscribe(prefix + "jobs.result", onEvent("result"))
    ]).then(function (subs) {
      subscriptions = subs;
      return session.call(prefix + "start_job", [10]);
    }).then(function (id) {
      jobId = String(id);
      jobIdEl.textContent = jobId;
      early.forEach(function (entry) { handle(entry[0], entry[1]); });
      early = [];
    }).catch(function (err) {
      resultEl.textContent = "error: " + errorText(err);
      finish();
    });
  });
{%- endif %}

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
{%- if cookiecutter.stack == "hybrid" %}
      startButton.disabled = false;
{%- endif %}
    }, function (err) {
      setStatus("subscribe failed: " + errorText(err));
    });
  };

  connection.onclose = function (reason, details) {
    session = null;
    helloButton.disabled = true;
{%- if cookiecutter.stack == "hybrid" %}
    startButton.disabled = true;
{%- endif %}
    setStatus("disconnected (" + String(reason) + ")");
  };

  connection.open();
}());
