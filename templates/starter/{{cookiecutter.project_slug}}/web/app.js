// Browser side: connects to the router that served this page (same origin), calls the
// backend's RPC and shows live events. WAMP payloads are untrusted data: they are only ever
// inserted with textContent. No secrets here: the router decides the role.
//
// Sign-in: a web app (or `python -m {{ cookiecutter.package_name }}.tickets USER`) sends the user here with
// #ticket=<ticket> in the URL. The fragment never reaches a server; the page keeps the ticket in
// sessionStorage (this tab only), removes it from the address bar and authenticates with WAMP
// ticket auth (role "user", authid = the user). Without a ticket it connects anonymously
// (role "browser": hello and the public events only).
(function () {
  "use strict";

  var realm = document.body.dataset.realm;
  var pkg = document.body.dataset.package;
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var TICKET_KEY = pkg + ".ticket";

  var statusEl = document.getElementById("status");
  var userEl = document.getElementById("user");
  var helloButton = document.getElementById("hello");
  var helloResult = document.getElementById("hello-result");
  var eventsList = document.getElementById("events");
{%- if cookiecutter.stack == "hybrid" %}
  var startButton = document.getElementById("start-job");
  var jobIdEl = document.getElementById("job-id");
  var progressEl = document.getElementById("progress");
  var resultEl = document.getElementById("result");
{%- else %}
  var whoamiButton = document.getElementById("whoami");
  var noticesList = document.getElementById("notices");
{%- endif %}

  var session = null;
  var signedIn = false;

  function takeTicket() {
    var match = /^#ticket=([A-Za-z0-9._=-]+)$/.exec(window.location.hash);
    if (match) {
      window.sessionStorage.setItem(TICKET_KEY, match[1]);
      // Out of the address bar (and of history, bookmarks and screen shares).
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return window.sessionStorage.getItem(TICKET_KEY);
  }

  function setStatus(text) {
    statusEl.textContent = text;
  }

  function addItem(list, text) {
    var item = document.createElement("li");
    item.textContent = text;
    list.appendChild(item);
  }

  function errorText(err) {
    if (err && err.error) {
      return err.error + (err.args && err.args.length ? ": " + String(err.args[0]) : "");
    }
    return String(err);
  }

  function setEnabled(connected) {
    helloButton.disabled = !connected;
{%- if cookiecutter.stack == "hybrid" %}
    startButton.disabled = !(connected && signedIn);
{%- else %}
    whoamiButton.disabled = !(connected && signedIn);
{%- endif %}
  }

  helloButton.addEventListener("click", function () {
    if (!session) { return; }
    session.call(pkg + ".public.hello", ["browser"]).then(
      function (greeting) { helloResult.textContent = String(greeting); },
      function (err) { helloResult.textContent = "error: " + errorText(err); }
    );
  });
{%- if cookiecutter.stack == "hybrid" %}

  // Job events (jobs.py): {job_id, seq, kind: "progress"|"result", ...}. The contract: ignore
  // an event whose seq is not above the last one seen for its job, and anything after the
  // job's result, so a replayed bridge request changes nothing on the page.
  var jobs = {};  // job_id -> {seq: last seen, done: result seen}
  var currentJob = null;
  var starting = false;
  var early = [];  // events that arrived before jobs.start returned the job id

  function showProgress(percent) {
    var value = Math.max(0, Math.min(100, Number(percent) || 0));
    progressEl.value = value;
    progressEl.textContent = value + "%";
  }

  function accept(event) {
    if (!event || typeof event.job_id !== "string" || typeof event.seq !== "number") { return false; }
    var job = jobs[event.job_id] || (jobs[event.job_id] = {seq: 0, done: false});
    if (job.done || event.seq <= job.seq) { return false; }
    job.seq = event.seq;
    job.done = event.kind === "result";
    return true;
  }

  function show(event) {
    if (event.kind === "progress") {
      showProgress(event.percent);
    } else if (event.kind === "result") {
      showProgress(100);
      resultEl.textContent = String(event.result);
      startButton.disabled = session === null;
    }
  }

  function onJobEvent(args) {
    var event = args && args[0];
    if (starting) { early.push(event); return; }
    if (event && event.job_id === currentJob && accept(event)) { show(event); }
  }

  startButton.addEventListener("click", function () {
    if (!session) { return; }
    startButton.disabled = true;
    jobIdEl.textContent = "";
    resultEl.textContent = "";
    showProgress(0);
    starting = true;
    currentJob = null;
    session.call(pkg + ".jobs.start", [10]).then(function (id) {
      currentJob = String(id);
      jobIdEl.textContent = currentJob;
    }, function (err) {
      resultEl.textContent = "error: " + errorText(err);
      startButton.disabled = session === null;
    }).then(function () {
      starting = false;
      var buffered = early;
      early = [];
      buffered.forEach(function (event) { onJobEvent([event]); });
    });
  });
{%- else %}

  whoamiButton.addEventListener("click", function () {
    if (!session) { return; }
    session.call(pkg + ".account.whoami").then(null, function (err) {
      addItem(noticesList, "error: " + errorText(err));
    });
  });
{%- endif %}

  function subscribeAll(authid) {
    var subscriptions = [
      session.subscribe(pkg + ".public.events", function (args) {
        var event = (args && args[0]) || {};
        addItem(eventsList, String(event.greeting));
      })
    ];
    if (signedIn) {
{%- if cookiecutter.stack == "hybrid" %}
      subscriptions.push(session.subscribe(pkg + ".user." + authid + ".jobs", onJobEvent));
{%- else %}
      subscriptions.push(session.subscribe(pkg + ".user." + authid + ".notices", function (args) {
        var notice = (args && args[0]) || {};
        addItem(noticesList, "notice for " + String(notice.authid));
      }));
{%- endif %}
    }
    return Promise.all(subscriptions);
  }

  var ticket = takeTicket();
  var options = {
    url: scheme + window.location.host + "/ws",
    realm: realm,
    max_retries: 10,
    initial_retry_delay: 1,
    max_retry_delay: 10
  };
  if (ticket) {
    options.authmethods = ["ticket"];
    options.onchallenge = function (challengeSession, method) {
      if (method !== "ticket") { throw new Error("unexpected authentication method " + method); }
      return ticket;
    };
  }
  var connection = new autobahn.Connection(options);

  connection.onopen = function (newSession, details) {
    session = newSession;
    signedIn = details.authrole === "user";
    var authid = signedIn ? String(details.authid) : "";
    userEl.textContent = signedIn ? authid : "not signed in";
    setStatus("subscribing");
    subscribeAll(authid).then(function () {
      setStatus("connected");
      setEnabled(true);
    }, function (err) {
      setStatus("subscribe failed: " + errorText(err));
    });
  };

  connection.onclose = function (reason, details) {
    session = null;
    setEnabled(false);
    var refused = details && /not_authorized|authentication_failed|no_such_principal/.test(String(details.reason));
    if (refused) {
      // A stale or forged ticket: forget it; reloading the page continues anonymously.
      window.sessionStorage.removeItem(TICKET_KEY);
      setStatus("sign-in refused: reload to continue without signing in");
      return true;  // stop retrying
    }
    setStatus("disconnected (" + String(reason) + ")");
    return false;
  };

  connection.open();
}());
