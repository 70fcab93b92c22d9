/* The single-page example: a login and a step-up through django_toopher's JSON API for
 * browsers (/_toopher/browser/v1/...), in plain JavaScript with no build step.
 *
 *   GET  session           who is logged in, what waits (and sets the csrftoken cookie)
 *   POST login             the password; the answer says "logged in" or "pending"
 *   POST pending/start     send the push            GET pending/status   poll it
 *   POST pending/terminal  name this browser        POST pending/otp     a one-time code
 *   POST pending/cancel    POST pending/retry       POST pending/pair    a pairing phrase
 *   POST <site>/spa/email  the site's own view, @api_toopher_required("Change email"):
 *                          403 approval_required begins the approval, polled as above.
 *
 * Every POST sends the csrftoken cookie's value as X-CSRFToken (read each time: the
 * token changes at login). Every error answer is {"error": {"code", "message"}}: the
 * page shows both. No inline script or style: the site's CSP allows neither.
 */
(function () {
  "use strict";

  var root = document.getElementById("spa");
  if (!root) {
    return;
  }
  var api = root.getAttribute("data-api").replace(/session$/, "");
  var emailUrl = root.getAttribute("data-email-url");
  var panels = ["spa-login", "spa-name", "spa-pair", "spa-wait", "spa-failed", "spa-account"];
  var statusBox = byId("spa-status");
  var errorBox = byId("spa-error");
  var pollTimer = null;
  var pending = null;      // the last pending object the API answered
  var waitingFor = null;   // {kind, action} of the live one: a final answer names neither
  var emailWanted = null;  // the address to send again once the phone approved
  var busy = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        return decodeURIComponent(parts[i].slice(eq + 1));
      }
    }
    return "";
  }

  // One call to the API: resolves to the parsed answer, never rejects. A network
  // failure or an answer that is not JSON becomes an error of the same shape.
  async function call(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = cookie("csrftoken");
      options.body = JSON.stringify(body || {});
    }
    var response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      return { error: { code: "network_error",
                        message: "The site cannot be reached. Check the connection and try again." } };
    }
    try {
      var answer = await response.json();
      if (answer && typeof answer === "object") {
        return answer;
      }
    } catch (e) { /* not JSON: below */ }
    return { error: { code: "http_" + response.status,
                      message: "The site answered " + response.status + " without an explanation." } };
  }

  function setStatus(text) {
    if (statusBox.textContent !== text) {
      statusBox.textContent = text;
    }
  }

  function showError(err) {
    errorBox.textContent = "";
    if (!err) {
      return;
    }
    var message = document.createElement("span");
    message.className = "spa-error-message";
    message.textContent = err.message || "Something went wrong.";
    var code = document.createElement("code");
    code.className = "spa-error-code";
    code.textContent = err.code || "error";
    errorBox.appendChild(message);
    errorBox.appendChild(document.createTextNode(" "));
    errorBox.appendChild(code);
  }

  // Show one panel; move the focus into it when it is new, so that keyboard and
  // screen-reader users land where the next step is.
  function show(id, focusId) {
    var changed = false;
    panels.forEach(function (panel) {
      var el = byId(panel);
      var visible = panel === id;
      if (el.hidden === visible) {
        el.hidden = !visible;
        changed = changed || visible;
      }
    });
    byId("spa-cancel-box").hidden = !(pending && !pending.final &&
                                      ["spa-name", "spa-pair", "spa-wait", "spa-failed"].indexOf(id) >= 0);
    if (changed) {
      var target = byId(focusId || id + "-title");
      if (target) {
        target.focus();
      }
    }
  }

  function stopPolling() {
    if (pollTimer !== null) {
      clearTimeout(pollTimer);
      pollTimer = null;
    }
  }

  function showLogin() {
    pending = null;
    waitingFor = null;
    emailWanted = null;
    stopPolling();
    show("spa-login", "spa-username");
    setStatus("Not logged in.");
  }

  function showAccount(user, statusText) {
    pending = null;
    waitingFor = null;
    stopPolling();
    if (user) {
      byId("spa-user").textContent = user.username;
    }
    show("spa-account", "spa-email");
    setStatus(statusText || ("Logged in as " + byId("spa-user").textContent + "."));
  }

  function what(p) {
    return p && p.kind === "action" ? "“" + p.action + "”" : "the login";
  }

  // Where the pending login (or action approval) is: do or show its next step.
  function follow(p, user) {
    stopPolling();
    pending = p;
    if (p.final) {
      // A final status carries kind and action null: it is of what we waited for.
      var known = waitingFor || {};
      waitingFor = null;
      finish({ status: p.status, message: p.message,
               kind: p.kind || known.kind, action: p.action || known.action }, user);
      return;
    }
    waitingFor = { kind: p.kind, action: p.action };
    switch (p.step) {
      case "start":
        setStatus("Sending the request for " + what(p) + " to your phone…");
        act("POST", "pending/start");
        break;
      case "name_terminal":
        show("spa-name", "spa-terminal-name");
        setStatus("Name this browser to go on.");
        break;
      case "pair":
        byId("spa-pair-message").textContent = p.message;
        show("spa-pair", "spa-pairing-phrase");
        setStatus("Pair a phone to go on: type the phrase the Toopher app shows.");
        break;
      case "failed":
        byId("spa-failed-message").textContent = p.message;
        show("spa-failed", "spa-retry");
        setStatus("Toopher could not be reached for " + what(p) + ".");
        break;
      default: // "pushed", "pairing": wait for the phone
        byId("spa-wait-title").textContent = p.kind === "action"
          ? "Approve “" + p.action + "” on your phone" : "Approve the login on your phone";
        byId("spa-wait-message").textContent = p.message;
        byId("spa-remaining").textContent = p.remaining === null ? ""
          : "About " + p.remaining + " seconds left.";
        byId("spa-otp-form").hidden = p.step !== "pushed";
        // Number matching: the number the user picks on the phone (null without).
        byId("spa-verification").hidden = !p.verification_code;
        byId("spa-verification").dataset.code = p.verification_code || "";
        byId("spa-verification-code").textContent = p.verification_code || "";
        show("spa-wait", "spa-wait-title");
        setStatus(p.step === "pairing" ? "Waiting for your phone to allow the pairing…"
                  : "Waiting for your phone to approve " + what(p) + "…");
        schedulePoll(p.interval);
    }
  }

  function schedulePoll(interval) {
    stopPolling();
    pollTimer = setTimeout(function () {
      pollTimer = null;
      act("GET", "pending/status", null, true);
    }, Math.max(1, interval || 2) * 1000);
  }

  // A final status: granted, denied, expired, cancelled, rate_limited, refused.
  function finish(p, user) {
    if (p.status === "granted") {
      showError(null);
      if (p.kind === "action") {
        setStatus("Your phone approved “" + p.action + "”.");
        if (emailWanted !== null) {
          sendEmail(emailWanted);
        } else {
          showAccount(null);
        }
      } else if (user) {
        showAccount(user, "Logged in as " + user.username + ": your phone approved the login.");
      } else {
        refresh();
      }
      return;
    }
    // Not granted: an answer, not an error of the API, but the user must read it.
    showError({ code: p.status, message: p.message });
    if (p.kind === "action") {
      emailWanted = null;
      showAccount(null, "Not approved: " + p.message);
    } else {
      showLogin();
      setStatus("Not logged in: " + p.message);
    }
  }

  // A call to a pending/... endpoint, and what its answer means.
  async function act(method, path, body, polling) {
    var answer = await call(method, api + path, body);
    var data = answer.data || {};
    if (answer.error) {
      showError(answer.error);
      if (data.pending) {
        follow(data.pending, data.user);  // e.g. invalid_otp: the login goes on
      } else if (answer.error.code === "no_pending_login") {
        refresh(true);
      } else if (polling && pending && !pending.final) {
        schedulePoll(pending.interval);  // a passing failure: poll again
      }
      return;
    }
    if (!polling) {
      showError(null);
    }
    follow(data.pending, data.user);
  }

  // Start over from what the server knows (on load, and when the state is unclear).
  async function refresh(keepError) {
    var answer = await call("GET", api + "session");
    if (answer.error) {
      showError(answer.error);
      setStatus("The page could not load the session; reload to try again.");
      return;
    }
    if (!keepError) {
      showError(null);
    }
    var data = answer.data;
    if (data.pending) {
      follow(data.pending, data.user);
    } else if (data.user) {
      showAccount(data.user);
    } else {
      showLogin();
    }
  }

  async function sendEmail(email) {
    emailWanted = email;
    setStatus("Changing your email…");
    var answer = await call("POST", emailUrl, { email: email });
    if (answer.error) {
      var data = answer.data || {};
      if (answer.error.code === "approval_required" && data.pending) {
        showError(null);
        setStatus("Changing your email needs an approval on your phone.");
        follow(data.pending);
        return;
      }
      emailWanted = null;
      showError(answer.error);
      showAccount(null, "Your email was not changed.");
      if (answer.error.code === "not_authenticated") {
        refresh(true);
      }
      return;
    }
    emailWanted = null;
    showError(null);
    byId("spa-result").textContent = answer.data.message;
    showAccount(null, answer.data.message);
  }

  // Forms and buttons: one request at a time.
  function on(id, event, handler) {
    byId(id).addEventListener(event, async function (e) {
      e.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      try {
        await handler(e);
      } finally {
        busy = false;
      }
    });
  }

  function field(id) {
    return byId(id).value.trim();
  }

  on("spa-login-form", "submit", async function () {
    setStatus("Checking your password…");
    var answer = await call("POST", api + "login",
                            { username: field("spa-username"), password: byId("spa-password").value });
    if (answer.error) {
      showError(answer.error);
      setStatus("Not logged in.");
      byId("spa-password").focus();
      return;
    }
    byId("spa-password").value = "";
    showError(null);
    if (answer.data.pending) {
      follow(answer.data.pending, answer.data.user);
    } else {
      showAccount(answer.data.user, "Logged in as " + answer.data.user.username +
                  " (no phone is paired, so the password was enough).");
    }
  });

  on("spa-name-form", "submit", function () {
    setStatus("Saving the name of this browser…");
    return act("POST", "pending/terminal", { name: field("spa-terminal-name") });
  });

  on("spa-pair-form", "submit", function () {
    setStatus("Sending the pairing phrase…");
    return act("POST", "pending/pair", { pairing_phrase: field("spa-pairing-phrase") });
  });

  on("spa-otp-form", "submit", function () {
    stopPolling();
    setStatus("Checking the code…");
    var otp = field("spa-otp");
    byId("spa-otp").value = "";
    return act("POST", "pending/otp", { otp: otp });
  });

  on("spa-retry", "click", function () {
    setStatus("Trying Toopher again…");
    return act("POST", "pending/retry");
  });

  on("spa-cancel", "click", function () {
    stopPolling();
    setStatus("Cancelling…");
    return act("POST", "pending/cancel");
  });

  on("spa-email-form", "submit", function () {
    byId("spa-result").textContent = "";
    showError(null);
    return sendEmail(field("spa-email"));
  });

  on("spa-logout", "click", async function () {
    var answer = await call("POST", api + "logout");
    if (answer.error) {
      showError(answer.error);
      return;
    }
    showError(null);
    byId("spa-result").textContent = "";
    showLogin();
    setStatus("You are logged out.");
  });

  refresh();
})();
